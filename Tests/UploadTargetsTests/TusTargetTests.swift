import BackgroundServices
import Foundation
import TestSupport
import Testing
import TusClient
import TusServer
import UploadEngine
@testable import UploadTargets
import UploadStatus

/// `TusTarget` against the project's own standalone `TusEndpoint` on loopback.
@Suite("TusTarget ↔ TusServer", .serialized)
struct TusTargetTests {
    @Test("a busy tus server's Retry-After reaches the engine as the wait it asks for")
    func busyTusServerRetryAfterReachesTheEngine() {
        let mapped = UploadTargetError.from(TusError.busy(status: 429, message: "slow down", retryAfter: .seconds(9)), doing: "upload a.bin")
        #expect(mapped.isRetryable && mapped.status == 429 && mapped.retryAfter == .seconds(9))
        #expect(mapped.message == "upload a.bin: slow down")
        let plain = UploadTargetError.from(TusError.http(status: 429, message: ""), doing: "upload a.bin")
        #expect(plain.isRetryable && plain.retryAfter == nil)
    }

    /// A standalone tus server on a free port, with a cache directory; both removed afterwards.
    static func withTusServer(_ body: (URL, TusEndpoint, TemporaryDirectory) async throws -> Void) async throws {
        let storage = try TemporaryDirectory("targets-tus")
        let cache = try TemporaryDirectory("targets-tus-cache")
        defer {
            storage.remove()
            cache.remove()
        }
        let server = try TusEndpoint(
            configuration: TusServerConfiguration(
                storageDirectory: URL(fileURLWithPath: storage.path), maxSize: 1 << 30, uploadLifetime: .seconds(3600)))
        let background = try await BackgroundService<URL>.start(logger: .init(label: "test")) { listening in
            server.standaloneApplication(port: 0, path: "/files") { await listening($0) }
        }
        do {
            try await body(background.value, server, cache)
        } catch {
            await background.stop()
            throw error
        }
        await background.stop()
    }

    static func target(_ endpoint: URL, chunkSize: Int64 = 1 << 20) -> TusTarget {
        TusTarget(endpoint: endpoint, tus: TusUploader(configuration: .init(chunkSize: chunkSize, retryPolicy: quickRetries)))
    }

    static func stored(_ server: TusEndpoint, _ remoteId: String) -> Data? {
        FileManager.default.contents(atPath: server.store.dataPath(URL(string: remoteId)!.lastPathComponent))
    }

    @Test("uploads are stored under their upload URL with filename, filetype and path metadata")
    func upload() async throws {
        try await Self.withTusServer { endpoint, server, cache in
            let bytes = randomBytes(3_000_000)
            try FileManager.default.createDirectory(atPath: cache.appending("dir"), withIntermediateDirectories: true)
            try bytes.write(to: URL(fileURLWithPath: cache.appending("dir/a.txt")))
            let target = Self.target(endpoint)
            let recorder = UploadRecorder()
            let outcome = try await target.upload(
                file: cache.appending("dir/a.txt"), remotePath: "dir/a.txt", size: Int64(bytes.count), resume: nil,
                onResumeData: recorder.onResumeData, progress: recorder.progressHandler)
            guard case .stored(let file) = outcome else { throw TestFailure("expected stored") }
            #expect(!file.needsProcessing)
            #expect(file.remoteId == recorder.resumeData.first?.tusUploadURL)
            #expect(recorder.progress.last == Int64(bytes.count))
            let same = Self.stored(server, file.remoteId) == bytes
            #expect(same)
            let info = try await server.store.info(URL(string: file.remoteId)!.lastPathComponent)
            #expect(info.metadata["filename"] == "a.txt")
            #expect(info.metadata["filetype"] == "text/plain")
            #expect(info.metadata["path"] == "dir/a.txt")
            #expect(try await target.processingStatus(remoteId: file.remoteId) == .ready(url: nil))
            try await target.rename(remoteId: file.remoteId, to: "dir/b.txt")
        }
    }

    @Test("an interrupted upload resumes from the server's offset; a gone one starts afresh; delete and terminate")
    func resumeAndDelete() async throws {
        try await Self.withTusServer { endpoint, server, cache in
            let bytes = randomBytes(6_000_000)
            let path = cache.appending("big.bin")
            try bytes.write(to: URL(fileURLWithPath: path))
            let target = Self.target(endpoint, chunkSize: 256 * 1024)

            let handle = CancelHandle()
            let first = UploadRecorder(onProgress: { if $0 >= 1 << 20 { handle.cancel() } })
            let task = Task { () async throws -> UploadOutcome in
                try await target.upload(
                    file: path, remotePath: "big.bin", size: Int64(bytes.count), resume: nil,
                    onResumeData: first.onResumeData, progress: first.progressHandler)
            }
            handle.set(task)
            let interrupted = await task.result
            #expect(throws: UploadTargetError.self) { try interrupted.get() }
            let resume = try #require(first.resumeData.first)
            let stoppedAt = first.progress.last ?? 0

            let second = UploadRecorder()
            let outcome = try await target.upload(
                file: path, remotePath: "big.bin", size: Int64(bytes.count), resume: resume,
                onResumeData: second.onResumeData, progress: second.progressHandler)
            guard case .stored(let file) = outcome else { throw TestFailure("expected stored") }
            #expect(file.remoteId == resume.tusUploadURL)
            #expect(second.resumeData.isEmpty)
            #expect((second.progress.first ?? 0) >= stoppedAt && (second.progress.first ?? 0) > 0)
            let same = Self.stored(server, file.remoteId) == bytes
            #expect(same)

            try await target.delete(remoteId: file.remoteId)
            try await target.delete(remoteId: file.remoteId)
            let url = try #require(URL(string: file.remoteId))
            await #expect(throws: TusError.uploadNotFound(url)) { _ = try await target.tus.status(of: url) }

            // Its upload is gone: the same resume data makes a new one.
            let third = UploadRecorder()
            guard case .stored(let again) = try await target.upload(
                file: path, remotePath: "big.bin", size: Int64(bytes.count), resume: resume,
                onResumeData: third.onResumeData, progress: third.progressHandler)
            else { throw TestFailure("expected stored") }
            #expect(again.remoteId != file.remoteId)
            #expect(third.resumeData.count == 1)
            try await target.terminate(resume: try #require(third.resumeData.first))
            let againURL = try #require(URL(string: again.remoteId))
            await #expect(throws: TusError.uploadNotFound(againURL)) { _ = try await target.tus.status(of: againURL) }
        }
    }
}
