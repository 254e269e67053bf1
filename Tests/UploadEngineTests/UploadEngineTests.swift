import Foundation
import Logging
import TestSupport
import Testing
@testable import UploadEngine
import UploadStatus
import UploadTargets

@Suite("Upload engine with a fault-injecting target", .timeLimit(.minutes(1)))
struct UploadEngineTests {
    /// The harness's write-back (50 ms) with room for a stall between a write and the look at its state.
    static var seenPending: UploadEngineConfiguration {
        var configuration = EngineHarness.configuration
        configuration.writeBackDelay = .milliseconds(500)
        return configuration
    }

    @Test func oneFileGoesThroughEveryStateToReady() async throws {
        let harness = try EngineHarness(configuration: Self.seenPending)
        defer { harness.directory.remove() }
        try await harness.engine.start()
        let data = content(1, size: 100_000)
        try await harness.write("videos/2024/a.mp4", data)
        #expect(await harness.state("videos/2024/a.mp4") == .pending)
        try await waitUntil("ready") { await harness.state("videos/2024/a.mp4") == .ready }
        let record = try #require(await harness.engine.status(of: "videos/2024/a.mp4"))
        #expect(record.uploadedBytes == 100_000)
        #expect(record.url?.hasPrefix("https://media.example/") == true)
        #expect(record.remoteId != nil)
        #expect(harness.service.liveFiles == ["videos/2024/a.mp4": [data]])
        #expect(try UploadJournal(path: harness.journalPath).record(for: "videos/2024/a.mp4") == record)
        #expect(harness.engine.currentStatus(of: "videos/2024/a.mp4") == record, "readable from FUSE threads")
        #expect(harness.engine.currentSummary().files == [record])
        let summary = await harness.engine.summary()
        #expect(summary.counts.files[.ready] == 1)
        #expect(summary.counts.bytesPending == 0)
        await harness.engine.shutdown(waitForUploads: true)
    }

    /// A closed file is prepared for its upload while it waits out the write-back delay, unless uploads are held
    /// back for long (`--write-back` beyond a minute): the hint would be stale by then, and it costs CPU while
    /// files are copied in.
    @Test func filesArePreparedOnlyWhenTheirUploadIsNear() async throws {
        var heldBack = EngineHarness.configuration
        heldBack.writeBackDelay = .seconds(3600)
        for (configuration, prepares) in [(Self.seenPending, true), (heldBack, false)] {
            let harness = try EngineHarness(configuration: configuration)
            defer { harness.directory.remove() }
            try await harness.engine.start()
            for index in 0..<3 { try await harness.write("d/f\(index).txt", content(index, size: 100)) }
            #expect(await harness.state("d/f2.txt") == .pending)
            #expect(harness.service.prepared == (prepares ? ["d/f0.txt", "d/f1.txt", "d/f2.txt"] : []))
            await harness.engine.shutdown(waitForUploads: false)
        }
    }

    @Test func twoHundredFilesWithTenPercentFailuresAllEndReady() async throws {
        let harness = try EngineHarness(
            target: FakeUploadTarget(options: .init(chunkSize: 2048, processingPolls: 1)), faults: .init(failureRate: 0.1, seed: 7))
        defer { harness.directory.remove() }
        try await harness.engine.start()
        var expected: [String: [Data]] = [:]
        for index in 0..<200 {
            let path = "batch/\(index % 10)/file-\(index).bin"
            let data = content(index, size: 1000 + index * 37)
            expected[path] = [data]
            try await harness.write(path, data)
        }
        try await waitUntil(timeout: 45, "200 ready") { await harness.engine.summary().counts.files[.ready] == 200 }
        #expect(harness.service.liveFiles == expected)
        #expect(harness.service.openUploads.isEmpty)
        let failures = harness.service.calls.filter { if case .upload(_, let resumedAt) = $0 { resumedAt != nil } else { false } }
        #expect(!failures.isEmpty, "some uploads failed part-way and were resumed")
        #expect(try UploadJournal(path: harness.journalPath).counts().files[.ready] == 200)
        await harness.engine.shutdown(waitForUploads: true)
    }

    @Test func overwriteDuringUploadUploadsTheNewVersionAndTerminatesTheOld() async throws {
        let target = FakeUploadTarget(options: .init(chunkSize: 8 * 1024, chunkDelay: .milliseconds(5)))
        let harness = try EngineHarness(target: target)
        defer { harness.directory.remove() }
        try await harness.engine.start()
        let first = content(1, size: 300_000), second = content(2, size: 120_000)
        try await harness.write("clip.mov", first)
        try await waitUntil("uploading") {
            let record = await harness.engine.status(of: "clip.mov")
            return record?.state == .uploading && (record?.uploadedBytes ?? 0) > 0 && record?.resume != nil
        }
        let superseded = try #require(await harness.engine.status(of: "clip.mov")?.resume?.tusUploadURL)
        try await harness.engine.fileWritten("clip.mov")
        #expect(await harness.state("clip.mov") == .local)
        try second.write(to: URL(fileURLWithPath: harness.cacheRoot + "/clip.mov"))
        try await harness.engine.fileClosed("clip.mov", size: Int64(second.count))
        try await waitUntil("ready") { await harness.state("clip.mov") == .ready }
        #expect(await harness.engine.status(of: "clip.mov")?.generation == 1)
        #expect(target.service.liveFiles == ["clip.mov": [second]])
        #expect(await harness.engine.summary().throughput > 0)
        try await waitUntil("terminated") { target.service.calls.contains(.terminate(uploadURL: superseded)) }
        #expect(target.service.openUploads.isEmpty, "no orphan")
        await harness.engine.shutdown(waitForUploads: true)
    }

    @Test func crashMidUploadResumesFromTheServerOffset() async throws {
        let service = FakeService()
        let options = FakeUploadTarget.Options(chunkSize: 16 * 1024)
        let size = 400 * 1024
        let data = content(3, size: size)
        let directory = try TemporaryDirectory("crash")
        defer { directory.remove() }
        let first = try EngineHarness(
            target: FakeUploadTarget(service: service, options: options), faults: .init(stallAfterBytes: 160 * 1024), directory: directory)
        try await first.engine.start()
        try await first.write("big.bin", data)
        try await waitUntil("stalled mid-upload") { service.bytesReceived(for: "big.bin") >= 160 * 1024 }
        // kill -9: the first engine is never shut down; a second daemon opens the same journal.
        let journalled = try #require(try UploadJournal(path: first.journalPath).record(for: "big.bin"))
        #expect(journalled.state == .uploading)
        #expect(journalled.resume?.tusUploadURL != nil, "resume data was committed before bytes moved")

        let second = try EngineHarness(target: FakeUploadTarget(service: service, options: options), directory: directory)
        try await second.engine.start()
        try await waitUntil("ready after restart") { await second.state("big.bin") == .ready }
        #expect(service.liveFiles == ["big.bin": [data]])
        #expect(service.calls.contains(.upload(path: "big.bin", resumedAt: 160 * 1024)), "continued from the server's offset")
        #expect(service.bytesReceived(for: "big.bin") == Int64(size), "no byte sent twice")
        await second.engine.shutdown(waitForUploads: true)
        await first.engine.shutdown(waitForUploads: false)
    }

    @Test func rsyncTempFileRenamedWithinTheDelayIsUploadedOnceUnderItsFinalName() async throws {
        let harness = try EngineHarness()
        defer { harness.directory.remove() }
        try await harness.engine.start()
        let data = content(4, size: 50_000)
        try await harness.write("photos/.IMG_0001.jpg.Ab12Cd", data)
        try await harness.rename("photos/.IMG_0001.jpg.Ab12Cd", "photos/IMG_0001.jpg")
        try await waitUntil("ready") { await harness.state("photos/IMG_0001.jpg") == .ready }
        #expect(await harness.engine.status(of: "photos/.IMG_0001.jpg.Ab12Cd") == nil)
        let uploads = harness.service.calls.compactMap { if case .upload(let path, _) = $0 { path } else { nil } }
        #expect(uploads == ["photos/IMG_0001.jpg"])
        #expect(harness.service.liveFiles == ["photos/IMG_0001.jpg": [data]])
        await harness.engine.shutdown(waitForUploads: true)
    }

    @Test func aFileTheJournalDidNotKnowIsUploadedWhenRenamed() async throws {
        let harness = try EngineHarness()
        defer { harness.directory.remove() }
        try await harness.engine.start()
        let data = content(19, size: 3000)
        try data.write(to: URL(fileURLWithPath: harness.cacheRoot + "/untracked.tmp"))
        try FileManager.default.createDirectory(atPath: harness.cacheRoot + "/dir.tmp", withIntermediateDirectories: true)
        try await harness.rename("untracked.tmp", "tracked.txt")
        try await harness.rename("dir.tmp", "dir")
        try await waitUntil("ready") { await harness.state("tracked.txt") == .ready }
        #expect(await harness.engine.status(of: "dir") == nil, "directories are not uploaded")
        #expect(harness.service.liveFiles == ["tracked.txt": [data]])
        await harness.engine.shutdown(waitForUploads: true)
    }

    @Test func removeDuringUploadLeavesNothing() async throws {
        let target = FakeUploadTarget(options: .init(chunkSize: 4096, chunkDelay: .milliseconds(5)))
        let harness = try EngineHarness(target: target)
        defer { harness.directory.remove() }
        try await harness.engine.start()
        try await harness.write("gone.bin", content(5, size: 200_000))
        try await waitUntil("uploading") { await harness.engine.status(of: "gone.bin")?.resume != nil }
        try FileManager.default.removeItem(atPath: harness.cacheRoot + "/gone.bin")
        try await harness.engine.fileRemoved("gone.bin")
        #expect(await harness.engine.status(of: "gone.bin") == nil)
        try await waitUntil("terminated") { target.service.calls.contains { if case .terminate = $0 { true } else { false } } }
        await harness.engine.shutdown(waitForUploads: true)
        #expect(target.service.openUploads.isEmpty)
        #expect(target.service.liveFiles.isEmpty)
        #expect(try UploadJournal(path: harness.journalPath).allRecords().isEmpty)
        #expect(try UploadJournal(path: harness.journalPath).pendingOperations().isEmpty)
    }

    @Test func renameAndRemoveAfterReadyChangeTheRemoteFile() async throws {
        let harness = try EngineHarness()
        defer { harness.directory.remove() }
        try await harness.engine.start()
        let data = content(6, size: 10_000)
        try await harness.write("inbox/a.txt", data)
        try await harness.write("inbox/b.txt", data)
        try await waitUntil("ready") { await harness.engine.summary().counts.files[.ready] == 2 }
        try FileManager.default.createDirectory(atPath: harness.cacheRoot + "/archive", withIntermediateDirectories: true)
        try await harness.rename("inbox/a.txt", "archive/a.txt")
        try await harness.engine.directoryRenamed(from: "inbox", to: "outbox")
        #expect(await harness.state("archive/a.txt") == .ready)
        #expect(await harness.state("outbox/b.txt") == .ready)
        try await waitUntil("renamed remotely") { harness.service.liveFiles.keys.sorted() == ["archive/a.txt", "outbox/b.txt"] }
        try await harness.engine.fileRemoved("archive/a.txt")
        try await waitUntil("in the trash") { harness.service.liveFiles.keys.sorted() == ["outbox/b.txt"] }
        await harness.engine.shutdown(waitForUploads: true)
        #expect(try UploadJournal(path: harness.journalPath).allRecords().map(\.path) == ["outbox/b.txt"])
    }

    @Test func permanentFailureWaitsForTheUserToRetry() async throws {
        let harness = try EngineHarness(faults: .init(permanentFailures: 1))
        defer { harness.directory.remove() }
        try await harness.engine.start()
        try await harness.write("bad.bin", content(7, size: 5000))
        try await waitUntil("failed") { await harness.state("bad.bin") == .failed }
        let failed = try #require(await harness.engine.status(of: "bad.bin"))
        #expect(failed.error == "400: injected failure")
        #expect(failed.attempts == 1)
        #expect(failed.nextAttemptAt == nil)
        try await Task.sleep(for: .milliseconds(100))
        #expect(await harness.state("bad.bin") == .failed, "no automatic retry")
        try await harness.engine.retry("bad.bin")
        try await waitUntil("ready after retry") { await harness.state("bad.bin") == .ready }
        await harness.engine.shutdown(waitForUploads: true)
    }

    @Test func retryableFailuresAreVisibleThenRetriedWithBackoff() async throws {
        let harness = try EngineHarness(faults: .init(failFirstUploads: 3))
        defer { harness.directory.remove() }
        try await harness.engine.start()
        try await harness.write("flaky.bin", content(8, size: 5000))
        try await waitUntil("failed with an error") { await harness.engine.status(of: "flaky.bin")?.error == "503: injected failure" }
        try await waitUntil("ready") { await harness.state("flaky.bin") == .ready }
        #expect(harness.target.calls.uploads == 4)
        let reachedService = harness.service.calls.filter { if case .upload = $0 { true } else { false } }
        #expect(reachedService.count == 1, "the failures never reached the service")
        #expect(await harness.engine.status(of: "flaky.bin")?.attempts == 0)
        await harness.engine.shutdown(waitForUploads: true)
    }

    @Test func atMostTheConfiguredNumberOfTransfersRunAtOnce() async throws {
        let target = FakeUploadTarget(options: .init(chunkSize: 1024, chunkDelay: .milliseconds(2), needsFinalize: false, processingPolls: 0))
        let harness = try EngineHarness(target: target)
        defer { harness.directory.remove() }
        try await harness.engine.start()
        for index in 0..<12 { try await harness.write("f\(index)", content(index, size: 20_000)) }
        var most = 0
        try await waitUntil("all ready") {
            let counts = await harness.engine.summary().counts.files
            most = max(most, counts[.uploading] ?? 0)
            return counts[.ready] == 12
        }
        #expect(most <= 4)
        #expect(most >= 2)
        await harness.engine.shutdown(waitForUploads: true)
    }

    @Test func pendingFilesStayInTheJournalAcrossShutdownAndUploadAtTheNextStart() async throws {
        let directory = try TemporaryDirectory("restart")
        defer { directory.remove() }
        let service = FakeService()
        let first = try EngineHarness(target: FakeUploadTarget(service: service), directory: directory)
        try await first.engine.start()
        try await first.write("later.txt", content(9, size: 3000))
        await first.engine.shutdown(waitForUploads: false)
        #expect(try UploadJournal(path: first.journalPath).record(for: "later.txt")?.state == .pending)
        let second = try EngineHarness(target: FakeUploadTarget(service: service), directory: directory)
        try await second.engine.start()
        try await waitUntil("ready") { await second.state("later.txt") == .ready }
        await second.engine.shutdown(waitForUploads: true)
    }

    @Test func filesChangedWhileTheDaemonWasDownAreFoundAndUploaded() async throws {
        let directory = try TemporaryDirectory("reconcile")
        defer { directory.remove() }
        let service = FakeService()
        let first = try EngineHarness(target: FakeUploadTarget(service: service), directory: directory)
        try await first.engine.start()
        try await first.write("kept.txt", content(10, size: 1000))
        try await first.write("changed.txt", content(11, size: 1000))
        try await waitUntil("ready") { await first.engine.summary().counts.files[.ready] == 2 }
        await first.engine.shutdown(waitForUploads: true)
        // while down: a new file appears, one file changes
        try FileManager.default.createDirectory(atPath: first.cacheRoot + "/new", withIntermediateDirectories: true)
        try content(12, size: 700).write(to: URL(fileURLWithPath: first.cacheRoot + "/new/untracked.txt"))
        try content(13, size: 1500).write(to: URL(fileURLWithPath: first.cacheRoot + "/changed.txt"))
        let second = try EngineHarness(target: FakeUploadTarget(service: service), directory: directory)
        try await second.engine.start()
        #expect(try await second.engine.reconcileWithCache() == 2)
        try await waitUntil("all ready") { await second.engine.summary().counts.files[.ready] == 3 }
        #expect(service.liveFiles == [
            "kept.txt": [content(10, size: 1000)], "changed.txt": [content(13, size: 1500)], "new/untracked.txt": [content(12, size: 700)],
        ])
        await second.engine.shutdown(waitForUploads: true)
    }

    @Test func eventsPostedFromOtherThreadsAreAppliedInOrder() async throws {
        let harness = try EngineHarness()
        defer { harness.directory.remove() }
        try await harness.engine.start()
        let data = content(14, size: 4000)
        try data.write(to: URL(fileURLWithPath: harness.cacheRoot + "/.x.tmp"))
        let engine = harness.engine
        let thread = Thread {
            engine.post(.written(".x.tmp"))
            engine.post(.closed(".x.tmp", size: 4000))
            engine.post(.renamed(from: ".x.tmp", to: "x"))
        }
        try FileManager.default.moveItem(atPath: harness.cacheRoot + "/.x.tmp", toPath: harness.cacheRoot + "/x")
        thread.start()
        try await waitUntil("posted") { await harness.engine.status(of: "x") != nil }
        await harness.engine.flush()
        #expect(await harness.engine.status(of: ".x.tmp") == nil)
        try await waitUntil("ready") { await harness.state("x") == .ready }
        #expect(harness.service.liveFiles == ["x": [data]])
        await harness.engine.shutdown(waitForUploads: true)
    }

    /// The engine's own overhead (journal commits, scheduling) must leave room for DESIGN.md's 500 files/s
    /// end to end; with an instant target it measures the engine alone (about 800 files/s in a debug build
    /// on the shared 2-core machine when alone, about 150 next to the mount suites).
    @Test func manySmallFilesGoThroughQuickly() async throws {
        let count = 1000
        let target = FakeUploadTarget(options: .init(chunkSize: 4096, needsFinalize: true, processingPolls: 0))
        let harness = try EngineHarness(target: target)
        defer { harness.directory.remove() }
        try await harness.engine.start()
        let data = content(15, size: 4096)
        for index in 0..<count {
            try data.write(to: URL(fileURLWithPath: harness.cacheRoot + "/f\(index)"))
        }
        let started = ContinuousClock.now
        for index in 0..<count {
            harness.engine.post(.written("f\(index)"))
            harness.engine.post(.closed("f\(index)", size: 4096))
        }
        try await waitUntil(timeout: 30, "all ready") { await harness.engine.counts().files[.ready] == count }
        let elapsed = (ContinuousClock.now - started).seconds - EngineHarness.configuration.writeBackDelay.seconds
        let rate = Double(count) / elapsed
        print("engine overhead: \(count) files in \(elapsed) s after the write-back delay = \(Int(rate)) files/s")
        #expect(rate > 50, "a gross regression; debug build on a shared machine, next to the other suites")
        await harness.engine.shutdown(waitForUploads: true)
    }

    @Test(arguments: [UploadState.finalizing, .processing])
    func crashWhileFinalizingOrProcessingNeverSendsTheBytesAgain(state: UploadState) async throws {
        let service = FakeService()
        let size = 100 * 1024
        let data = content(16, size: size)
        let directory = try TemporaryDirectory("crash-\(state)")
        defer { directory.remove() }
        let stall: FaultInjectingTarget.Stall = state == .finalizing ? .finalize : .processingStatus
        let first = try EngineHarness(
            target: FakeUploadTarget(service: service, options: .init(processingPolls: 2)), faults: .init(stalls: [stall]),
            directory: directory)
        try await first.engine.start()
        try await first.write("doc.pdf", data)
        try await waitUntil("stuck in \(state)") { try UploadJournal(path: first.journalPath).record(for: "doc.pdf")?.state == state }
        let second = try EngineHarness(target: FakeUploadTarget(service: service, options: .init(processingPolls: 2)), directory: directory)
        try await second.engine.start()
        try await waitUntil("ready after restart") { await second.state("doc.pdf") == .ready }
        #expect(service.liveFiles == ["doc.pdf": [data]])
        #expect(service.bytesReceived(for: "doc.pdf") == Int64(size))
        await second.engine.shutdown(waitForUploads: true)
        await first.engine.shutdown(waitForUploads: false)
    }

    @Test func remoteOperationsQueuedBeforeACrashAreCarriedOutAtTheNextStart() async throws {
        let service = FakeService()
        let directory = try TemporaryDirectory("outbox")
        defer { directory.remove() }
        let options = FakeUploadTarget.Options(chunkSize: 4096, chunkDelay: .milliseconds(5))
        let first = try EngineHarness(
            target: FakeUploadTarget(service: service, options: options), faults: .init(stalls: [.remoteOperations]), directory: directory)
        try await first.engine.start()
        try await first.write("kept.bin", content(17, size: 2000))
        try await waitUntil("ready") { await first.state("kept.bin") == .ready }
        try await first.write("doomed.bin", content(18, size: 200_000))
        try await waitUntil("uploading") { await first.engine.status(of: "doomed.bin")?.resume != nil }
        try await first.engine.fileRemoved("doomed.bin")
        try await first.engine.fileRemoved("kept.bin")
        #expect(try UploadJournal(path: first.journalPath).pendingOperations().count == 2)
        // kill -9 while the terminate and the delete hang
        let second = try EngineHarness(target: FakeUploadTarget(service: service, options: options), directory: directory)
        try await second.engine.start()
        try await waitUntil("outbox empty") { try UploadJournal(path: second.journalPath).pendingOperations().isEmpty }
        #expect(service.liveFiles.isEmpty, "the removed file is in the trash")
        try await waitUntil("no orphan upload") { service.openUploads.isEmpty }
        await second.engine.shutdown(waitForUploads: true)
        await first.engine.shutdown(waitForUploads: false)
    }
}
