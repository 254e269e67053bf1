import Foundation
import TestSupport
import Testing
@testable import UploadEngine
import UploadStatus

/// Settled files (ready, failed for good) live in the journal only: the engine's memory follows the files in
/// flight, and what the status surface and later events need of a settled file is read from the journal.
@Suite(.serialized)
struct SettledRecordsTests {
    /// More files than the read model keeps of the recently settled ones, in folders of 500.
    static let count = StatusReadModel.recentLimit + 452

    static func name(_ index: Int) -> String { "d\(index / 500)/f\(index).txt" }

    static func uploadAll(_ harness: EngineHarness) async throws {
        for index in 0..<count {
            let path = name(index)
            try FileManager.default.createDirectory(
                atPath: harness.cacheRoot + "/" + (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try HeldEventsTests.post(harness, path, Data("file \(index)\n".utf8))
        }
        try await waitUntil(timeout: 120, "every file ready") {
            harness.engine.currentSubtreeSummary(of: "").totals[.ready] == count
        }
    }

    /// An engine that uploaded every file and stopped, and a second one started on its journal and cache.
    static func restartAfterUploadingAll() async throws -> EngineHarness {
        let first = try EngineHarness()
        do {
            try await first.engine.start()
            try await Self.uploadAll(first)
            await first.engine.shutdown(waitForUploads: true)
            let second = try EngineHarness(target: FakeUploadTarget(service: first.service), directory: first.directory)
            try await second.engine.start()
            return second
        } catch {
            first.directory.remove()
            throw error
        }
    }

    /// Each directory's kept totals equal a count of every record under it.
    static func expectTotalsMatchARecount(
        _ harness: EngineHarness, _ directories: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let files = harness.engine.currentSummary().files
        for directory in directories {
            var recount = SubtreeSummary()
            for record in files where SubtreeSummary.path(record.path, isIn: directory) { recount.add(record) }
            var kept = harness.engine.currentSubtreeSummary(of: directory)
            kept.service = nil
            #expect(kept == recount, "\(directory)", sourceLocation: sourceLocation)
        }
    }

    @Test func settledRecordsLeaveMemoryAndAreStillServedAndFollowed() async throws {
        let harness = try EngineHarness()
        defer { harness.directory.remove() }
        try await harness.engine.start()
        try await Self.uploadAll(harness)
        #expect(await harness.engine.records.isEmpty, "settled records stay in memory")

        // The first files settled longest ago: their status comes from the journal.
        let first = try #require(harness.engine.currentStatus(of: Self.name(0)))
        #expect(first.state == .ready && first.remoteId != nil)
        #expect(await harness.engine.status(of: Self.name(0))?.remoteId == first.remoteId)
        let folder = harness.engine.currentSubtreeSummary(of: "d0")
        #expect(folder.files == 500 && folder.totals[.ready] == 500 && folder.bytes_uploaded == folder.bytes)
        #expect(harness.engine.currentSubtreeSummary(of: Self.name(1)).files == 1, "one file's own summary")
        #expect(harness.engine.currentSummary().files.count == Self.count)

        // A rename and a removal of files settled long ago reach the service.
        try await harness.rename(Self.name(1), "d0/renamed.txt")
        try FileManager.default.removeItem(atPath: harness.cacheRoot + "/" + Self.name(2))
        try await harness.engine.fileRemoved(Self.name(2))
        try FileManager.default.moveItem(atPath: harness.cacheRoot + "/d1", toPath: harness.cacheRoot + "/moved")
        try await harness.engine.directoryRenamed(from: "d1", to: "moved")
        try await waitUntil("the service follows") {
            let live = harness.service.liveFiles
            return live["d0/renamed.txt"] == [Data("file 1\n".utf8)] && live[Self.name(1)] == nil && live[Self.name(2)] == nil
                && live["moved/f500.txt"] == [Data("file 500\n".utf8)] && live[Self.name(500)] == nil
        }
        #expect(harness.engine.currentStatus(of: "d0/renamed.txt")?.state == .ready)
        #expect(harness.engine.currentStatus(of: Self.name(2)) == nil)
        #expect(harness.engine.currentSubtreeSummary(of: "d0").files == 499)
        #expect(harness.engine.currentSubtreeSummary(of: "d1").files == 0)
        #expect(harness.engine.currentSubtreeSummary(of: "moved").files == 500)
        #expect(await harness.engine.records.isEmpty)

        // A new version of a file settled long ago uploads again.
        try HeldEventsTests.post(harness, Self.name(3), Data("file 3, changed\n".utf8))
        try await waitUntil("the new version ready") {
            harness.service.liveFiles[Self.name(3)] == [Data("file 3, changed\n".utf8)]
        }
        await harness.engine.shutdown(waitForUploads: true)
    }

    @Test func aRestartLoadsNoSettledRecordButShowsThemAll() async throws {
        let second = try await Self.restartAfterUploadingAll()
        defer { second.directory.remove() }
        #expect(await second.engine.records.isEmpty, "a restart loaded settled records")
        await second.engine.waitUntilReconciled()
        let root = second.engine.currentSubtreeSummary(of: "")
        #expect(root.files == Self.count && root.totals[.ready] == Self.count && root.failed_for_good == 0)
        #expect(second.engine.currentSubtreeSummary(of: "d2").files == 500)
        #expect(second.engine.currentStatus(of: Self.name(7))?.state == .ready)
        #expect(try await second.engine.reconcileWithCache() == 0, "every cache file matches its journal record")
        await second.engine.shutdown(waitForUploads: true)
    }

    @Test func directoryTotalsMatchARecountAfterConcurrentChanges() async throws {
        let harness = try EngineHarness(target: FakeUploadTarget(options: .init(chunkSize: 2000, chunkDelay: .milliseconds(1))))
        defer { harness.directory.remove() }
        try await harness.engine.start()
        for index in 0..<200 {
            let path = "t\(index % 4)/s\(index % 3)/f\(index).bin"
            try FileManager.default.createDirectory(
                atPath: harness.cacheRoot + "/" + (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try HeldEventsTests.post(harness, path, content(index, size: 500 + index * 37))
            if index % 25 == 24 {
                // Changes while others upload: a rewrite, a removal, a move to another folder.
                try HeldEventsTests.post(harness, "t0/s0/f0.bin", content(999, size: 1234 + index))
                let gone = "t\((index - 1) % 4)/s\((index - 1) % 3)/f\(index - 1).bin"
                try? FileManager.default.removeItem(atPath: harness.cacheRoot + "/" + gone)
                harness.engine.post(.removed(gone))
            }
        }
        try await harness.rename("t1/s1/f1.bin", "t3/f1-moved.bin")
        // Posted events are applied a moment later: the totals are looked at once every one is.
        await harness.engine.flush()
        try await waitUntil(timeout: 60, "nothing left to send") {
            let root = harness.engine.currentSubtreeSummary(of: "")
            return root.files > 0 && root.files == (root.totals[.ready] ?? 0)
        }
        Self.expectTotalsMatchARecount(harness, ["", "t0", "t1", "t2", "t3", "t0/s0", "t1/s1", "t2/s2", "t3/s0"])
        await harness.engine.shutdown(waitForUploads: true)
    }

    /// Totals counted in the background after a restart, while files change at once (rewritten, removed,
    /// renamed, new): the count from the journal's snapshot plus the changes counted as they came add up to a
    /// recount, for the root and for each folder.
    @Test func totalsCountedInTheBackgroundMatchARecountAfterChangesDuringTheCount() async throws {
        let second = try await Self.restartAfterUploadingAll()
        defer { second.directory.remove() }
        for index in stride(from: 0, to: Self.count, by: 97) {
            try HeldEventsTests.post(second, Self.name(index), Data("file \(index), again\n".utf8))
        }
        for index in stride(from: 5, to: Self.count, by: 211) {
            try? FileManager.default.removeItem(atPath: second.cacheRoot + "/" + Self.name(index))
            second.engine.post(.removed(Self.name(index)))
        }
        try FileManager.default.createDirectory(atPath: second.cacheRoot + "/d9", withIntermediateDirectories: true)
        try await second.rename(Self.name(1), "d9/moved.txt")
        try HeldEventsTests.post(second, "d9/new.txt", Data("new\n".utf8))
        await second.engine.waitUntilReconciled()
        // Posted events are applied a moment later; until then every file is still ready from before.
        await second.engine.flush()
        try await waitUntil(timeout: 60, "nothing left to send") {
            let root = second.engine.currentSubtreeSummary(of: "")
            return root.reconciling == nil && root.files == (root.totals[.ready] ?? 0)
        }
        #expect(second.engine.currentSummary().files.count == Self.count - (Self.count - 5 + 210) / 211 + 1)
        Self.expectTotalsMatchARecount(second, ["", "d0", "d1", "d4", "d9"])
        await second.engine.shutdown(waitForUploads: true)
    }
}
