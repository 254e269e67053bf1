import Foundation
import Testing
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

    @Test func statusJSONIsRebuiltAfterAChange() async throws {
        let model = StatusReadModel(journal: nil)
        let pending = UploadRecord(path: "a", state: .pending, size: 1)
        model.update(from: nil, to: pending, removing: nil)
        let first = try UploadStatusReport.decode(Data(model.statusJSON()))
        #expect(first.files.map(\.state) == [.pending])
        #expect(model.statusJSON() == model.statusJSON(), "no change, the same document")
        model.update(from: pending, to: UploadRecord(path: "a", state: .ready, size: 1, uploadedBytes: 1), removing: nil)
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
        let model = StatusReadModel(journal: nil)
        #expect(model.throughput() == 0)
        model.recordAcknowledged(4_000)
        model.recordAcknowledged(0)
        #expect(model.throughput() == 4_000, "over a window of at least a second")
    }
}
