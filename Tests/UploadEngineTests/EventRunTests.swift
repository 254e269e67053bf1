import Foundation
import TestSupport
import Testing
@testable import UploadEngine
import UploadStatus

/// A burst of file events (`cp -r`, `rsync`) is applied in one journal transaction and carried out once it
/// is committed: the result is the same as one event at a time, and a file renamed or removed right after
/// its close never starts uploading under its first name.
struct EventRunTests {
    /// Posts the events `rsync` causes for one file, without waiting: a temporary name written and closed,
    /// then renamed to the file's name.
    static func postLikeRsync(_ harness: EngineHarness, _ name: String, _ data: Data) throws {
        let temporary = ".\(name).tmp"
        harness.engine.post(.written(temporary))
        try data.write(to: URL(fileURLWithPath: harness.cacheRoot + "/" + temporary))
        harness.engine.post(.closed(temporary, size: Int64(data.count)))
        try FileManager.default.moveItem(atPath: harness.cacheRoot + "/" + temporary, toPath: harness.cacheRoot + "/" + name)
        harness.engine.post(.renamed(from: temporary, to: name))
    }

    @Test func aBurstLikeRsyncsIsJournalledAndUploadsEachFileUnderItsNameOnly() async throws {
        let harness = try EngineHarness()
        defer { harness.directory.remove() }
        try await harness.engine.start()
        let names = (1...40).map { "f\($0)" }
        for (index, name) in names.enumerated() { try Self.postLikeRsync(harness, name, content(index, size: 100 + index)) }
        // One more closed, then removed in the same burst: it never reaches the service.
        harness.engine.post(.written("gone"))
        try Data("gone\n".utf8).write(to: URL(fileURLWithPath: harness.cacheRoot + "/gone"))
        harness.engine.post(.closed("gone", size: 5))
        try FileManager.default.removeItem(atPath: harness.cacheRoot + "/gone")
        harness.engine.post(.removed("gone"))

        try await waitUntil("every file ready") {
            var ready = true
            for name in names where await harness.state(name) != .ready { ready = false }
            return ready
        }
        for (index, name) in names.enumerated() {
            #expect(harness.service.liveFiles[name] == [content(index, size: 100 + index)], "\(name)")
            #expect(try harness.engine.journal.record(for: ".\(name).tmp") == nil, "\(name): the temporary name is left in the journal")
        }
        let uploaded = harness.service.calls.compactMap { call -> String? in
            if case .upload(let path, _) = call { return path }
            return nil
        }
        #expect(uploaded.sorted() == names.sorted(), "uploads under other names: \(uploaded.filter { !names.contains($0) })")
        #expect(try harness.engine.journal.record(for: "gone") == nil)
        #expect(harness.service.liveFiles["gone"] == nil)
        await harness.engine.shutdown(waitForUploads: true)
    }

    /// A file large enough to start uploading at its close (named at finalize), closed and renamed in one
    /// burst: the slot it is given once the burst is carried out starts its upload, under its final name.
    @Test func aLargeFileClosedAndRenamedInOneBurstIsUploaded() async throws {
        var options = FakeUploadTarget.Options()
        options.namedAtFinalizeFromSize = 10_000
        let harness = try EngineHarness(target: FakeUploadTarget(options: options))
        defer { harness.directory.remove() }
        try await harness.engine.start()
        let data = content(7, size: 200_000)
        try Self.postLikeRsync(harness, "large.bin", data)
        try Self.postLikeRsync(harness, "small.txt", Data("small\n".utf8))
        try await waitUntil("both ready") {
            let large = await harness.state("large.bin"), small = await harness.state("small.txt")
            return large == .ready && small == .ready
        }
        #expect(harness.service.liveFiles["large.bin"] == [data])
        #expect(harness.service.liveFiles[".large.bin.tmp"] == nil)
        await harness.engine.shutdown(waitForUploads: true)
    }

    @Test func aBurstTheJournalRefusesIsHeldWholeAndAppliedInOrderLater() async throws {
        let harness = try EngineHarness()
        defer { harness.directory.remove() }
        try await harness.engine.start()
        harness.engine.journal.simulatedWriteFailure.withLock { $0 = HeldEventsTests.diskFull }
        try Self.postLikeRsync(harness, "a.txt", Data("a\n".utf8))
        try Self.postLikeRsync(harness, "b.txt", Data("b\n".utf8))
        await harness.engine.flush()
        #expect(harness.engine.currentStatus(of: ".a.txt.tmp")?.error?.contains(HeldEventsTests.diskFull) == true)
        #expect(try harness.engine.journal.record(for: ".a.txt.tmp") == nil, "nothing of the refused burst is recorded")
        #expect(harness.service.calls.isEmpty, "nothing of the refused burst is carried out")

        harness.engine.journal.simulatedWriteFailure.withLock { $0 = nil }
        try await waitUntil("both ready under their names") {
            let a = await harness.state("a.txt"), b = await harness.state("b.txt")
            return a == .ready && b == .ready
        }
        #expect(harness.service.liveFiles["a.txt"] == [Data("a\n".utf8)])
        #expect(harness.service.liveFiles["b.txt"] == [Data("b\n".utf8)])
        #expect(try harness.engine.journal.record(for: ".a.txt.tmp") == nil)
        #expect(harness.engine.currentStatus(of: "a.txt")?.error == nil)
        await harness.engine.shutdown(waitForUploads: true)
    }
}
