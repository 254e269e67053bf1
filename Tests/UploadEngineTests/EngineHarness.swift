import Foundation
import Logging
import TestSupport
import Testing
@testable import UploadEngine
import Timekeeping
import UploadStatus
import UploadTargets

/// A cache directory, a journal and an engine over the fake service, with short timings. The engine talks to
/// the fake target through a `FaultInjectingTarget` with the test's faults (none by default).
struct EngineHarness {
    let directory: TemporaryDirectory
    let cacheRoot: String
    let journalPath: String
    /// What the engine talks to: `FaultInjectingTarget(wrapping: FakeUploadTarget(…), faults: …)`.
    let target: FaultInjectingTarget
    /// The fake service behind the target.
    let service: FakeService
    let engine: UploadEngine

    static let configuration = UploadEngineConfiguration(
        writeBackDelay: .milliseconds(50), parallelTransfers: 4,
        // Files from 10 kB take transfer slots, so that tests of `parallelTransfers` need no 10 MiB files.
        smallFileSize: 10_000,
        retryPolicy: RetryPolicy(base: .milliseconds(10), cap: .milliseconds(80)),
        processingPollPolicy: RetryPolicy(base: .milliseconds(5), cap: .milliseconds(40), maxAttempts: .max),
        remoteOperationPolicy: RetryPolicy(base: .milliseconds(10), cap: .milliseconds(50)))

    static let logger: Logger = {
        var logger = Logger(label: "tusfs.upload-engine.test")
        logger.logLevel = .error
        return logger
    }()

    init(
        target fake: FakeUploadTarget = FakeUploadTarget(), faults: FaultInjectingTarget.Faults = .init(),
        directory: TemporaryDirectory? = nil, configuration: UploadEngineConfiguration = EngineHarness.configuration
    ) throws {
        self.directory = try directory ?? TemporaryDirectory("engine")
        cacheRoot = self.directory.appending("files")
        journalPath = self.directory.appending("journal.sqlite")
        try FileManager.default.createDirectory(atPath: cacheRoot, withIntermediateDirectories: true)
        let target = FaultInjectingTarget(wrapping: fake, faults: faults)
        self.target = target
        service = fake.service
        engine = UploadEngine(
            journal: try UploadJournal(path: journalPath), target: target, cacheRoot: cacheRoot, configuration: configuration,
            logger: Self.logger)
    }

    /// Writes `data` to the cache file like a writer through the mount: written, then closed.
    func write(_ path: String, _ data: Data) async throws {
        let full = cacheRoot + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try await engine.fileWritten(path)
        try data.write(to: URL(fileURLWithPath: full))
        try await engine.fileClosed(path, size: Int64(data.count))
    }

    func rename(_ from: String, _ to: String) async throws {
        try FileManager.default.moveItem(atPath: cacheRoot + "/" + from, toPath: cacheRoot + "/" + to)
        try await engine.fileRenamed(from: from, to: to)
    }

    func state(_ path: String) async -> UploadState? { await engine.status(of: path)?.state }
}

func content(_ seed: Int, size: Int) -> Data {
    var generator = SplitMix64(seed: UInt64(seed))
    var bytes = [UInt8](repeating: 0, count: size)
    for index in stride(from: 0, to: size, by: 8) {
        withUnsafeBytes(of: generator.next()) { word in
            for offset in 0..<min(8, size - index) { bytes[index + offset] = word[offset] }
        }
    }
    return Data(bytes)
}

extension UploadEngine {
    /// Whether each of `names` is in `state` now.
    func all(_ names: [String], are state: UploadState) async -> Bool {
        for name in names where await status(of: name)?.state != state { return false }
        return true
    }
}
