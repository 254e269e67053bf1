import Foundation
import Testing
import UploadStatus

@Suite("Subtree summaries (user.tusfs.summary)")
struct SubtreeSummaryTests {
    @Test func aPathIsInItsOwnSubtreeAndThoseOfItsDirectoriesOnly() {
        #expect(SubtreeSummary.path("docs/a.txt", isIn: ""))
        #expect(SubtreeSummary.path("docs/a.txt", isIn: "docs"))
        #expect(SubtreeSummary.path("docs/a.txt", isIn: "docs/a.txt"))
        #expect(SubtreeSummary.path("docs/sub/a.txt", isIn: "docs"))
        #expect(!SubtreeSummary.path("docs2/a.txt", isIn: "docs"))
        #expect(!SubtreeSummary.path("docs", isIn: "docs/a.txt"))
        #expect(!SubtreeSummary.path("dö/a", isIn: "d"))
        #expect(SubtreeSummary.path("dö/a", isIn: "dö"))
    }

    @Test func totalsCountStatesFailuresForGoodAndBytesTheServiceHas() throws {
        var summary = SubtreeSummary()
        summary.add(UploadRecord(path: "a", state: .ready, size: 100))
        summary.add(UploadRecord(path: "b", state: .uploading, size: 100, uploadedBytes: 40))
        summary.add(UploadRecord(path: "c", state: .processing, size: 50, uploadedBytes: 0))
        summary.add(UploadRecord(path: "d", state: .failed, size: 10, uploadedBytes: 0))
        summary.add(UploadRecord(path: "e", state: .failed, size: 10, uploadedBytes: 5, nextAttemptAt: Date()))
        #expect(summary.files == 5)
        #expect(summary.totals[.ready] == 1 && summary.totals[.failed] == 2 && summary.totals[.pending] == 0)
        #expect(summary.failed_for_good == 1)
        #expect(summary.bytes == 270)
        #expect(summary.bytes_uploaded == 100 + 40 + 50 + 0 + 5)
        // Every state is written, zeros included, and the JSON reads back the same.
        let json = String(decoding: summary.jsonBytes(), as: UTF8.self)
        #expect(json.hasPrefix(#"{"bytes":270,"bytes_uploaded":195,"failed_for_good":1,"files":5,"totals":{"failed":2,"#), "\(json)")
        #expect(try SubtreeSummary.decode(summary.jsonBytes()) == summary)
    }
}
