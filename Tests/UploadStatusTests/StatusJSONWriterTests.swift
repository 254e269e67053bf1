import Foundation
import Testing
@testable import UploadStatus

/// `StatusJSONWriter` writes exactly what `JSONEncoder` (sorted keys, pretty printed, slashes unescaped)
/// writes for `UploadStatusReport`, which is what `status.json` and the sidecars were before it.
struct StatusJSONWriterTests {
    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }

    private static func record(_ path: String, _ state: UploadState) -> UploadRecord {
        var record = UploadRecord(path: path, state: state, size: 12_345_678, updatedAt: Date(timeIntervalSince1970: 1_790_000_000.75))
        record.uploadedBytes = 4096
        return record
    }

    private static var records: [UploadRecord] {
        var ready = record("videos/2024/a b.mp4", .ready)
        ready.remoteId = "db9c20_0123~mv2.mp4"
        ready.url = "http://127.0.0.1:8080/media/db9c20_0123~mv2.mp4"
        var failed = record("odd/\"quoted\"\\back\tslash\n\u{1}é😀.txt", .failed)
        failed.error = "HTTP 400: {\"message\":\"bad / name\"}\r\n\u{7f}"
        failed.attempts = 3
        failed.nextAttemptAt = Date(timeIntervalSince1970: 1_790_000_100.2)
        let old = UploadRecord(path: "old", state: .pending, size: 0, updatedAt: Date(timeIntervalSince1970: 0))
        return [ready, failed, old, record("uploading.bin", .uploading)]
    }

    @Test func sidecarsMatchJSONEncoder() throws {
        for record in Self.records {
            let expected = try Self.encoder.encode(UploadStatusReport.File(record))
            #expect(String(decoding: try record.sidecarJSON(), as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        }
    }

    @Test(arguments: [0, 1, 4])
    func statusDocumentMatchesJSONEncoder(files: Int) throws {
        for throughput in [0, 1234.5, 60653.04332974215, 1e-7, 3e21] {
            let records = Array(Self.records.prefix(files))
            var counts: [UploadState: Int] = [:]
            for record in records { counts[record.state, default: 0] += 1 }
            let summary = UploadSummary(
                counts: UploadCounts(files: counts, bytesPending: 777), files: records, throughput: throughput)
            let expected = try Self.encoder.encode(UploadStatusReport(summary: summary))
            #expect(String(decoding: try summary.statusJSON(), as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        }
    }

    @Test func statusDocumentDuringAnOutageMatchesJSONEncoder() throws {
        let service = ServiceStatus.unreachable(
            since: Date(timeIntervalSince1970: 1_790_000_000), error: "probe: network error: connection refused \"x\"")
        let summary = UploadSummary(records: Self.records, throughput: 0, service: service)
        let expected = try Self.encoder.encode(UploadStatusReport(summary: summary))
        #expect(String(decoding: try summary.statusJSON(), as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        // The files waiting for the service name the outage; the others keep their own error.
        let report = try UploadStatusReport.decode(try summary.statusJSON())
        #expect(report.service == service)
        for file in report.files {
            if file.state.waitsForService {
                #expect(file.error == service.outageLine)
            } else {
                #expect(file.error != service.outageLine)
            }
        }
        #expect(service.outageLine?.hasPrefix("service unreachable since 2026-09-21T") == true, "\(service.outageLine ?? "")")
    }

    @Test func timesAreISO8601() {
        for seconds in [0, 1_790_000_000.75, 951_782_400, 4_102_444_799.999, -1] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(StatusJSONWriter.rfc3339(date) == date.ISO8601Format())
        }
    }
}
