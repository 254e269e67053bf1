import Foundation
import Logging
import MediaManagerAPI
import TestSupport
import Testing
import UploadEngine
@testable import UploadTargets
import UploadStatus

/// `FaultInjectingTarget` around the real `MediaManagerTarget`, against an in-process `tusfs serve`: faults
/// injected on the client side, recovered from by the real target and the engine.
@Suite("FaultInjectingTarget + MediaManagerTarget", .serialized)
struct FaultInjectingMediaManagerTests {
    /// Uploads `path` from the test's cache through `target`, recording into `recorder`.
    static func upload(
        _ path: String, through target: some UploadTarget, in test: TargetTestService, resume: ResumeData? = nil,
        recorder: UploadRecorder = UploadRecorder()
    ) async throws(UploadTargetError) -> UploadOutcome {
        let size = (try? FileManager.default.attributesOfItem(atPath: test.cache.appending(path))[.size] as? NSNumber)?.int64Value ?? 0
        return try await target.upload(
            file: test.cache.appending(path), remotePath: path, size: size, resume: resume,
            onResumeData: recorder.onResumeData, progress: recorder.progressHandler)
    }

    /// The error `body` threw, or nil if it returned.
    static func error(_ body: () async throws -> Void) async -> UploadTargetError? {
        await thrownError(UploadTargetError.self, body)
    }

    /// The bytes the service's upload routes received so far (its metrics).
    static func bytesReceived(_ test: TargetTestService) async throws -> Int? {
        let metrics = try await String(
            decoding: download(try test.service.baseURL.appendingPathComponent("metrics").absoluteString), as: UTF8.self)
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("tusfs_server_bytes_received_total ") }
        return line?.split(separator: " ").last.flatMap { Int($0) }
    }

    static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .error
        return logger
    }

    @Test("a 12 MB tus upload dropped after 3 MiB resumes from the server's offset; the stored file is identical")
    func droppedUploadResumesFromTheServersOffset() async throws {
        try await TargetTestService.with { test in
            let bytes = try test.makeFile("video/big.bin", size: MediaManagerUploadTests.large)
            let chunk: Int64 = 512 * 1024
            let target = FaultInjectingTarget(wrapping: try test.target(chunkSize: chunk), faults: .init(dropAfterBytes: 3 << 20))
            let first = UploadRecorder()
            let error = await Self.error { _ = try await Self.upload("video/big.bin", through: target, in: test, recorder: first) }
            #expect(error == .retryable("connection dropped"))
            let droppedAt = try #require(first.progress.last)
            #expect(droppedAt >= 3 << 20 && droppedAt < Int64(bytes.count))
            let resume = try #require(first.resumeData.last)

            let second = UploadRecorder()
            #expect(try await Self.upload("video/big.bin", through: target, in: test, resume: resume, recorder: second) == .needsFinalize)
            #expect(second.resumeData.isEmpty, "the same tus upload continued")
            #expect((second.progress.first ?? 0) >= droppedAt, "continued from the server's offset, not from 0")
            #expect(second.progress.last == Int64(bytes.count))
            #expect(target.injected == [.droppedConnection: 1])
            #expect(target.calls.uploads == 2)

            let file = try await target.finalize(resume: resume, remotePath: "video/big.bin", size: Int64(bytes.count))
            guard case .ready(let url) = try await waitUntilProcessed(target, file.remoteId) else {
                throw TestFailure("processing did not end READY")
            }
            let downloaded = try await download(try #require(url))
            let same = downloaded == bytes
            #expect(same)
            let received = try #require(try await Self.bytesReceived(test))
            #expect(received <= bytes.count + Int(chunk), "at most the chunk in flight was sent again: \(received)")
        }
    }

    @Test("an injected permanent failure surfaces as non-retryable and reaches nothing on the service")
    func permanentFailureIsNotRetryable() async throws {
        try await TargetTestService.with { test in
            try test.makeFile("docs/a.txt", size: 50_000)
            let inner = try test.target()
            let target = FaultInjectingTarget(wrapping: inner, faults: .init(permanentFailures: 1))
            let error = try #require(await Self.error { _ = try await Self.upload("docs/a.txt", through: target, in: test) })
            #expect(!error.isRetryable)
            #expect(error.status == Int?.some(400))
            #expect(try await folderID(inner.client, ["docs"]) == nil, "the service was not asked (no folder made)")

            guard case .stored(let file) = try await Self.upload("docs/a.txt", through: target, in: test) else {
                throw TestFailure("expected stored")
            }
            let folder = try #require(try await folderID(inner.client, ["docs"]))
            #expect(try await inner.client.allFiles(ListFilesQuery(parentFolderId: folder)).map(\.id) == [file.remoteId])
        }
    }

    @Test("the engine over a target whose first two uploads fail ends READY with the file on the service")
    func engineRetriesInjectedFailuresToReady() async throws {
        try await TargetTestService.with { test in
            let data = try test.makeFile("albums/a.jpg", size: 200_000)
            let target = FaultInjectingTarget(
                wrapping: MediaManagerTarget(client: try test.client(), logger: Self.logger), faults: .init(failFirstUploads: 2))
            let engine = UploadEngine(
                journal: try UploadJournal(path: test.data.appending("journal.sqlite")), target: target,
                cacheRoot: test.cache.path, configuration: EngineWithMediaManagerTests.configuration, logger: Self.logger)
            try await engine.start()
            try await engine.fileClosed("albums/a.jpg", size: Int64(data.count))
            try await EngineWithMediaManagerTests.waitFor("ready") { await engine.status(of: "albums/a.jpg")?.state == .ready }
            #expect(target.calls.uploads == 3)
            #expect(target.injected == [.failedUpload: 2])
            let downloaded = try await download(try #require(await engine.status(of: "albums/a.jpg")?.url))
            let same = downloaded == data
            #expect(same)
            await engine.shutdown(waitForUploads: true)
        }
    }

    @Test("a daemon killed while its upload hangs mid-file: the next one resumes it and every byte is sent once")
    func engineResumesAStalledUploadAfterACrash() async throws {
        try await TargetTestService.with { test in
            let data = try test.makeFile("clips/take.mov", size: MediaManagerUploadTests.large)
            let chunk: Int64 = 1 << 20
            let journal = test.data.appending("journal.sqlite")
            let stalled = FaultInjectingTarget(
                wrapping: MediaManagerTarget(client: try test.client(chunkSize: chunk), logger: Self.logger),
                faults: .init(stallAfterBytes: 4 << 20))
            let first = UploadEngine(
                journal: try UploadJournal(path: journal), target: stalled, cacheRoot: test.cache.path,
                configuration: EngineWithMediaManagerTests.configuration, logger: Self.logger)
            try await first.start()
            try await first.fileClosed("clips/take.mov", size: Int64(data.count))
            try await EngineWithMediaManagerTests.waitFor("the upload hangs") { stalled.injected[.stalledUpload] == 1 }
            let journalled = try #require(try UploadJournal(path: journal).record(for: "clips/take.mov"))
            #expect(journalled.state == .uploading)

            // kill -9: the first engine is never shut down; a second daemon opens the same journal.
            let second = UploadEngine(
                journal: try UploadJournal(path: journal),
                target: MediaManagerTarget(client: try test.client(chunkSize: chunk), logger: Self.logger),
                cacheRoot: test.cache.path, configuration: EngineWithMediaManagerTests.configuration, logger: Self.logger)
            try await second.start()
            try await EngineWithMediaManagerTests.waitFor("ready after restart") {
                await second.status(of: "clips/take.mov")?.state == .ready
            }
            let downloaded = try await download(try #require(await second.status(of: "clips/take.mov")?.url))
            let same = downloaded == data
            #expect(same)
            #expect(try await Self.bytesReceived(test) == data.count, "every byte sent once")
            await second.shutdown(waitForUploads: true)
            await first.shutdown(waitForUploads: false)
        }
    }
}
