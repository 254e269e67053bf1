import Foundation
import Logging
import MediaManagerAPI
import TestSupport
import Testing
import UploadEngine
@testable import UploadTargets

/// The upload engine driving `MediaManagerTarget` against an in-process service: the whole bridge below the
/// filesystem.
@Suite("UploadEngine + MediaManagerTarget", .serialized)
struct EngineWithMediaManagerTests {
    static let configuration = UploadEngineConfiguration(
        writeBackDelay: .milliseconds(20), parallelTransfers: 4,
        retryPolicy: RetryPolicy(base: .milliseconds(20), cap: .milliseconds(200), maxAttempts: 20),
        processingPollPolicy: RetryPolicy(base: .milliseconds(20), cap: .milliseconds(100), maxAttempts: .max),
        remoteOperationPolicy: RetryPolicy(base: .milliseconds(20), cap: .milliseconds(100), maxAttempts: 5))

    static func waitFor(
        _ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    @Test("files become ready in their folders; a rename moves the remote file; an unlink trashes it")
    func endToEnd() async throws {
        try await TargetTestService.with { test in
            let small = try test.makeFile("albums/2024/a.jpg", size: 200_000)
            let large = try test.makeFile("albums/big.mov", size: MediaManagerUploadTests.large)
            var logger = Logger(label: "test")
            logger.logLevel = .error
            let target = MediaManagerTarget(client: try test.client(chunkSize: 2 << 20), rootFolder: "/mount", logger: logger)
            let journal = try UploadJournal(path: test.data.appending("journal.sqlite"))
            let engine = UploadEngine(
                journal: journal, target: target, cacheRoot: test.cache.path, configuration: Self.configuration, logger: logger)
            try await engine.start()
            try await engine.fileClosed("albums/2024/a.jpg", size: Int64(small.count))
            try await engine.fileClosed("albums/big.mov", size: Int64(large.count))
            try await Self.waitFor("both files ready") {
                let small = await engine.status(of: "albums/2024/a.jpg")?.state
                let large = await engine.status(of: "albums/big.mov")?.state
                return small == .ready && large == .ready
            }
            let bigID = try #require(await engine.status(of: "albums/big.mov")?.remoteId)
            let albums = try #require(try await folderID(target.client, ["mount", "albums"]))
            #expect(try await target.client.file(id: bigID).parentFolderId == albums)
            let downloaded = try await download(try #require(await engine.status(of: "albums/big.mov")?.url))
            let same = downloaded == large
            #expect(same)

            try FileManager.default.createDirectory(atPath: test.cache.appending("clips"), withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: test.cache.appending("albums/big.mov"), toPath: test.cache.appending("clips/b.mov"))
            try await engine.fileRenamed(from: "albums/big.mov", to: "clips/b.mov")
            let smallID = try #require(await engine.status(of: "albums/2024/a.jpg")?.remoteId)
            try FileManager.default.removeItem(atPath: test.cache.appending("albums/2024/a.jpg"))
            try await engine.fileRemoved("albums/2024/a.jpg")
            try await Self.waitFor("rename and delete on the service") {
                guard let clips = try await folderID(target.client, ["mount", "clips"]) else { return false }
                let moved = try await target.client.file(id: bigID)
                let trashed = try await target.client.file(id: smallID)
                return moved.parentFolderId == clips && moved.displayName == "b.mov" && trashed.state == .deleted
            }
            await engine.shutdown(waitForUploads: true)
        }
    }
}
