import Foundation
import Testing
@testable import UploadEngine
import UploadStatus

@Suite("Status read model")
struct StatusReadModelTests {
    @Test func updatesAndRenamesShowAtOncePerPathAndSubtree() {
        let model = StatusReadModel()
        model.replaceAll(["a/x": UploadRecord(path: "a/x", state: .ready, size: 10, uploadedBytes: 10)])
        model.update(UploadRecord(path: "a/y", state: .uploading, size: 100, uploadedBytes: 25), removing: nil)
        model.update(UploadRecord(path: "b/z", state: .pending, size: 1), removing: nil)
        #expect(model.record(at: "a/y")?.uploadedBytes == 25)
        let a = model.subtreeSummary(of: "a")
        #expect(a.files == 2 && a.bytes == 110 && a.bytes_uploaded == 35)
        #expect(model.subtreeSummary(of: "").files == 3)

        var renamed = model.record(at: "b/z")!
        renamed.path = "a/z"
        model.update(renamed, removing: "b/z")
        #expect(model.record(at: "b/z") == nil)
        #expect(model.subtreeSummary(of: "a").files == 3)
        model.update(nil, removing: "a/x")
        #expect(model.summary().files.map(\.path) == ["a/y", "a/z"])
        #expect(model.summary().counts.bytesPending == 76)
    }

    @Test func statusJSONIsRebuiltAfterAChange() async throws {
        let model = StatusReadModel()
        model.update(UploadRecord(path: "a", state: .pending, size: 1), removing: nil)
        let first = try UploadStatusReport.decode(Data(model.statusJSON()))
        #expect(first.files.map(\.state) == [.pending])
        #expect(model.statusJSON() == model.statusJSON(), "no change, the same document")
        model.update(UploadRecord(path: "a", state: .ready, size: 1, uploadedBytes: 1), removing: nil)
        // A rebuild is held back for five times the last build's time at most (the first build of a debug
        // binary can take milliseconds): the new state shows within a second.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(1)
        var states: [UploadState] = []
        while clock.now < deadline {
            states = try UploadStatusReport.decode(Data(model.statusJSON())).files.map(\.state)
            if states == [.ready] { break }
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(states == [.ready])
    }

    @Test func throughputCountsAcknowledgedBytes() {
        let model = StatusReadModel()
        #expect(model.throughput() == 0)
        model.recordAcknowledged(4_000)
        model.recordAcknowledged(0)
        #expect(model.throughput() == 4_000, "over a window of at least a second")
    }
}
