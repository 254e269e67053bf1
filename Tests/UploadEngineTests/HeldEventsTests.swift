import Foundation
import TestSupport
import Testing
@testable import UploadEngine
import UploadStatus

/// When the journal cannot be written (a full disk), no file event is lost: the events are held, in order,
/// the files show the error, and everything goes on once the journal takes writes again.
struct HeldEventsTests {
    static let diskFull = "database or disk is full"

    /// Writes `data` at `path` in the cache and posts its events as the mount does.
    static func post(_ harness: EngineHarness, _ path: String, _ data: Data) throws {
        harness.engine.post(.written(path))
        try data.write(to: URL(fileURLWithPath: harness.cacheRoot + "/" + path))
        harness.engine.post(.closed(path, size: Int64(data.count)))
    }

    @Test func fileEventsTheJournalRefusesAreHeldShownAndAppliedOnceItTakesWritesAgain() async throws {
        let harness = try EngineHarness()
        defer { harness.directory.remove() }
        try await harness.engine.start()
        try Self.post(harness, "before.txt", Data("before\n".utf8))
        try await waitUntil("ready before the disk filled") { await harness.state("before.txt") == .ready }

        harness.engine.journal.simulatedWriteFailure.withLock { $0 = Self.diskFull }
        try Self.post(harness, "new.txt", Data("written while the disk was full\n".utf8))
        try Self.post(harness, "before.txt", Data("before, changed\n".utf8))
        await harness.engine.flush()
        try await Task.sleep(for: .milliseconds(300))
        for path in ["new.txt", "before.txt"] {
            let shown = try #require(harness.engine.currentStatus(of: path), "\(path) not shown")
            #expect(shown.error?.contains("cannot record this file's change in the journal") == true, "\(path): \(shown.error ?? "")")
            #expect(shown.error?.contains(Self.diskFull) == true)
        }
        #expect(harness.engine.currentStatus(of: "new.txt")?.state == .local, "a file the journal never knew shows as local")
        #expect(harness.engine.currentSummary().files.contains { $0.path == "new.txt" && $0.error != nil })
        #expect(harness.service.liveFiles["new.txt"] == nil)

        harness.engine.journal.simulatedWriteFailure.withLock { $0 = nil }
        try await waitUntil("both uploaded once the journal takes writes") {
            let new = await harness.state("new.txt"), before = await harness.state("before.txt")
            return new == .ready && before == .ready
        }
        #expect(harness.service.liveFiles["new.txt"] == [Data("written while the disk was full\n".utf8)])
        #expect(harness.service.liveFiles["before.txt"] == [Data("before, changed\n".utf8)])
        #expect(harness.engine.currentStatus(of: "new.txt")?.error == nil)
        #expect(try harness.engine.journal.record(for: "new.txt")?.state == .ready)
        await harness.engine.shutdown(waitForUploads: true)
    }

    @Test func aResultTheJournalRefusesWaitsAndIsRecordedLater() async throws {
        let harness = try EngineHarness(target: FakeUploadTarget(options: .init(chunkSize: 1000, chunkDelay: .milliseconds(20))))
        defer { harness.directory.remove() }
        try await harness.engine.start()
        try Self.post(harness, "slow.bin", content(5, size: 20_000))
        try await waitUntil("uploading") { await harness.state("slow.bin") == .uploading }
        // The upload's end (and its finalize) cannot be journalled for a while.
        harness.engine.journal.simulatedWriteFailure.withLock { $0 = Self.diskFull }
        try await waitUntil(timeout: 10, "the upload's result is held") {
            harness.engine.currentStatus(of: "slow.bin")?.error?.contains(Self.diskFull) == true
        }
        #expect(await harness.state("slow.bin") == .uploading, "the held result is not applied")
        harness.engine.journal.simulatedWriteFailure.withLock { $0 = nil }
        try await waitUntil("ready") { await harness.state("slow.bin") == .ready }
        #expect(harness.service.liveFiles["slow.bin"] == [content(5, size: 20_000)])
        await harness.engine.shutdown(waitForUploads: true)
    }
}
