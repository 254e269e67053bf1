import Foundation
import Testing
import TestSupport
@testable import UploadEngine
import UploadStatus

@Suite("Status read model")
struct StatusReadModelTests {
    @Test func updatesAndRenamesShowAtOncePerPathAndSubtree() {
        let model = StatusReadModel(journal: nil)
        let x = UploadRecord(path: "a/x", state: .ready, size: 10, uploadedBytes: 10)
        let z = UploadRecord(path: "b/z", state: .pending, size: 1)
        model.update(from: nil, to: x, removing: nil)
        model.update(from: nil, to: UploadRecord(path: "a/y", state: .uploading, size: 100, uploadedBytes: 25), removing: nil)
        model.update(from: nil, to: z, removing: nil)
        #expect(model.record(at: "a/y")?.uploadedBytes == 25)
        let a = model.subtreeSummary(of: "a")
        #expect(a.files == 2 && a.bytes == 110 && a.bytes_uploaded == 35)
        #expect(model.subtreeSummary(of: "").files == 3)

        var renamed = z
        renamed.path = "a/z"
        model.update(from: z, to: renamed, removing: "b/z")
        #expect(model.record(at: "b/z") == nil)
        #expect(model.subtreeSummary(of: "a").files == 3)
        #expect(model.subtreeSummary(of: "b").files == 0)
        #expect(model.subtreeSummary(of: "a/y").files == 1, "a file's own summary")
        model.update(from: x, to: nil, removing: "a/x")
        #expect(model.summary().files.map(\.path) == ["a/y", "a/z"])
        #expect(model.summary().counts.bytesPending == 76)
    }

    @Test func aListingShowsEveryChangeAtOnce() throws {
        let model = StatusReadModel(journal: nil)
        let pending = UploadRecord(path: "a", state: .pending, size: 1)
        model.update(from: nil, to: pending, removing: nil)
        let first = try UploadStatusReport.decode(Data(model.document(under: "").readAll()))
        #expect(first.files.map(\.state) == [.pending])
        model.update(from: pending, to: UploadRecord(path: "a", state: .ready, size: 1, uploadedBytes: 1), removing: nil)
        #expect(try UploadStatusReport.decode(Data(model.document(under: "").readAll())).files.map(\.state) == [.ready])
    }

    /// A listing longer than a page of the journal, with files held in memory (fresher progress, and one the
    /// journal does not know yet) in their places, in byte order, and the same bytes as the whole document.
    @Test func aListingMergesJournalPagesWithTheFilesInMemory() throws {
        let directory = try TemporaryDirectory("listing")
        defer { directory.remove() }
        let journal = try UploadJournal(path: directory.path + "/journal.sqlite")
        let count = StatusListing.pageSize * 2 + 37
        var records: [UploadRecord] = []
        for index in 0..<count {
            let record = UploadRecord(path: "d\(index % 3)/f\(String(format: "%05d", index))", state: .ready, size: 10, uploadedBytes: 10)
            try journal.save(record)
            records.append(record)
        }
        let model = StatusReadModel(journal: journal)
        model.startOver(active: [:])
        var counted = DirectoryTotals()
        for record in records { counted.add(record) }
        model.addCounted(counted)
        // In memory: one journalled file uploading again, and one the journal has not seen ("é" sorts after "f").
        var uploading = records[StatusListing.pageSize + 5]
        let before = uploading
        uploading.state = .uploading
        uploading.uploadedBytes = 4
        model.update(from: before, to: uploading, removing: nil)
        let open = UploadRecord(path: "d1/é-open", state: .local, size: 3)
        model.update(from: nil, to: open, removing: nil)

        let whole = try UploadStatusReport.decode(Data(model.document(under: "").readAll()))
        #expect(whole.files.count == count + 1 && whole.files_total == count + 1)
        let paths = whole.files.map(\.path)
        #expect(paths == paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(Set(paths).count == paths.count, "each file once")
        #expect(whole.files.first { $0.path == uploading.path }?.uploaded == 4, "the copy in memory in its place")
        #expect(paths.contains(open.path))
        #expect(whole.totals[.ready] == count - 1 && whole.totals[.uploading] == 1 && whole.totals[.local] == 1)
        #expect(whole.bytes_pending == 6 + 3)

        let d1 = try UploadStatusReport.decode(Data(model.document(under: "d1").readAll()))
        #expect(d1.files.allSatisfy { $0.path.hasPrefix("d1/") })
        #expect(d1.files.count == records.count { $0.path.hasPrefix("d1/") } + 1)
        #expect(try UploadStatusReport.decode(Data(model.document(under: "d").readAll())).files.isEmpty, "d is not d1")
        // The same bytes as the summary written whole.
        #expect(model.document(under: "").readAll() == model.summary().statusJSONBytes())
    }

    @Test func throughputCountsAcknowledgedBytes() {
        let model = StatusReadModel(journal: nil)
        #expect(model.throughput() == 0)
        model.recordAcknowledged(4_000)
        model.recordAcknowledged(0)
        #expect(model.throughput() == 4_000, "over a window of at least a second")
    }
}
