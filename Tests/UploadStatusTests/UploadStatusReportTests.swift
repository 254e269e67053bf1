import Foundation
import Testing
import UploadStatus

@Suite("Status surface")
struct UploadStatusReportTests {
    let record = UploadRecord(
        path: "videos/a.mp4", state: .ready, size: 100, uploadedBytes: 100, remoteId: "r1", url: "https://m/r1",
        attempts: 0, updatedAt: Date(timeIntervalSince1970: 1_800_000_000))

    @Test func xattrsInGetfattrOrder() {
        #expect(record.statusAttributes.map(\.name) == [
            "user.tusfs.state", "user.tusfs.progress", "user.tusfs.remote_id", "user.tusfs.url", "user.tusfs.attempts", "user.tusfs.updated",
        ])
        #expect(record.statusAttributes.map(\.value) == ["ready", "100/100", "r1", "https://m/r1", "0", "2027-01-15T08:00:00Z"])
    }

    @Test func sidecarAndStatusJSON() throws {
        let sidecar = try JSONSerialization.jsonObject(with: record.sidecarJSON()) as? [String: Any]
        #expect(sidecar?["state"] as? String == "ready")
        #expect(sidecar?["remote_id"] as? String == "r1")
        #expect(sidecar?["updated"] as? String == "2027-01-15T08:00:00Z")
        let summary = UploadSummary(counts: UploadCounts(files: [.ready: 1], bytesPending: 0), files: [record], throughput: 12.5)
        let status = try JSONSerialization.jsonObject(with: summary.statusJSON()) as? [String: Any]
        #expect(status?["throughput"] as? Double == 12.5)
        let totals = status?["totals"] as? [String: Int]
        #expect(totals?["ready"] == 1)
        #expect(totals?["failed"] == 0)
        #expect(status?["bytes_pending"] as? Int == 0)
        #expect((status?["files"] as? [[String: Any]])?.first?["path"] as? String == "videos/a.mp4")
    }
}
