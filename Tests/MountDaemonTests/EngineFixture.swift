import Foundation
import Logging
import TestSupport
import Testing
import UploadEngine
import UploadStatus

/// A cache directory, a journal and a started engine over an in-memory service, with short timings.
struct EngineFixture {
    let directory: TemporaryDirectory
    let cacheRoot: String
    let target = InMemoryUploadTarget()
    let engine: UploadEngine

    init() async throws {
        directory = try TemporaryDirectory("mount-daemon")
        cacheRoot = directory.appending("files")
        try FileManager.default.createDirectory(atPath: cacheRoot, withIntermediateDirectories: true)
        var logger = Logger(label: "tusfs.upload-engine.test")
        logger.logLevel = .error
        engine = UploadEngine(
            journal: try UploadJournal(path: directory.appending("journal.sqlite")), target: target, cacheRoot: cacheRoot,
            configuration: UploadEngineConfiguration(
                writeBackDelay: .milliseconds(10),
                remoteOperationPolicy: RetryPolicy(base: .milliseconds(10), cap: .milliseconds(50), maxAttempts: 5)),
            logger: logger)
        try await engine.start()
    }

    /// Writes `text` to the cache file and posts what the mirror would: written, then closed.
    func write(_ path: String, _ text: String) throws {
        let full = cacheRoot + "/" + path
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        engine.post(.written(path))
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        engine.post(.closed(path, size: Int64(text.utf8.count)))
    }

    /// Waits until every one of `paths` is ready.
    func waitUntilReady(_ paths: [String]) async throws {
        try await waitUntil("\(paths) ready") {
            for path in paths where engine.currentStatus(of: path)?.state != .ready { return false }
            return true
        }
    }

    /// Runs `body` with a fresh fixture, stopped and removed afterwards.
    static func with(_ body: (EngineFixture) async throws -> Void) async throws {
        let fixture = try await EngineFixture()
        do {
            try await body(fixture)
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }

    func stop() async {
        await engine.shutdown(waitForUploads: false)
        directory.remove()
    }
}

