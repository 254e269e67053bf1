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

    @Test("a file from 10 MB starts uploading at close; renamed within the delay, it is finalized once under its final name")
    func largeFileStartsAtCloseAndSurvivesRsyncsRename() async throws {
        try await TargetTestService.with { test in
            let data = try test.makeFile("clips/.take.mov.Ab12Cd", size: MediaManagerUploadTests.large)
            var logger = Logger(label: "test")
            logger.logLevel = .error
            let target = MediaManagerTarget(client: try test.client(chunkSize: 1 << 20), logger: logger)
            var configuration = Self.configuration
            configuration.writeBackDelay = .seconds(8)
            let engine = UploadEngine(
                journal: try UploadJournal(path: test.data.appending("journal.sqlite")), target: target,
                cacheRoot: test.cache.path, configuration: configuration, logger: logger)
            try await engine.start()
            let closed = ContinuousClock.now
            try await engine.fileClosed("clips/.take.mov.Ab12Cd", size: Int64(data.count))
            try await Self.waitFor("bytes acknowledged", timeout: .seconds(7)) {
                (await engine.status(of: "clips/.take.mov.Ab12Cd")?.uploadedBytes ?? 0) > 0
            }
            #expect(ContinuousClock.now - closed < configuration.writeBackDelay, "bytes moved within the write-back delay")
            // rsync renames its temp file as soon as it is complete (the upload is under way or done by now).
            try FileManager.default.moveItem(atPath: test.cache.appending("clips/.take.mov.Ab12Cd"), toPath: test.cache.appending("clips/take.mov"))
            try await engine.fileRenamed(from: "clips/.take.mov.Ab12Cd", to: "clips/take.mov")
            try await Self.waitFor("the file is ready", timeout: .seconds(30)) { await engine.status(of: "clips/take.mov")?.state == .ready }

            let record = try #require(await engine.status(of: "clips/take.mov"))
            let file = try await target.client.file(id: try #require(record.remoteId))
            #expect(file.displayName == "take.mov")
            #expect(file.mediaType == .video, "typed by the final name's extension")
            #expect(file.parentFolderId == (try await folderID(target.client, ["clips"])))
            let stored = try await target.client.listFiles(ListFilesQuery(parentFolderId: file.parentFolderId))
            #expect(stored.files.map(\.displayName) == ["take.mov"], "no file under the temp name")
            #expect(try await download(try #require(record.url)) == data)
            let metrics = try await String(decoding: download(try test.service.baseURL.appendingPathComponent("metrics").absoluteString), as: UTF8.self)
            let received = metrics.split(separator: "\n").first { $0.hasPrefix("tusfs_server_bytes_received_total ") }
            #expect(received?.split(separator: " ").last.flatMap { Int($0) } == data.count, "every byte sent once")
            await engine.shutdown(waitForUploads: true)
        }
    }
}
