import Foundation
import Synchronization
import TestSupport
import Timekeeping
import Testing
@testable import UploadEngine
import UploadStatus

/// A service that takes at most `capacity` uploads at once and answers the others 429 with a `Retry-After`,
/// over the fake service; it counts the uploads running and the most that ever ran at once.
final class ThrottlingTarget: UploadTarget {
    let wrapped: FakeUploadTarget
    let retryAfter: Duration
    private struct State {
        var capacity: Int
        var running = 0
        var mostRunning = 0
        var refused = 0
    }
    private let state: Mutex<State>

    init(wrapping wrapped: FakeUploadTarget, capacity: Int, retryAfter: Duration) {
        self.wrapped = wrapped
        self.retryAfter = retryAfter
        state = Mutex(State(capacity: capacity))
    }

    func setCapacity(_ capacity: Int) { state.withLock { $0.capacity = capacity } }
    var refused: Int { state.withLock { $0.refused } }
    /// The most uploads that ran at once since the last call (then reset).
    func takeMostRunning() -> Int { state.withLock { state in defer { state.mostRunning = state.running }; return state.mostRunning } }

    func upload(
        file: String, remotePath: String, size: Int64, resume: ResumeData?,
        onResumeData: @escaping @Sendable (ResumeData) async -> Void, progress: @escaping @Sendable (Int64) -> Void
    ) async throws(UploadTargetError) -> UploadOutcome {
        let admitted = state.withLock { state in
            guard state.running < state.capacity else {
                state.refused += 1
                return false
            }
            state.running += 1
            state.mostRunning = max(state.mostRunning, state.running)
            return true
        }
        guard admitted else { throw .retryable("too many requests", status: 429, retryAfter: retryAfter) }
        defer { state.withLock { $0.running -= 1 } }
        // A round trip, so that requests overlap as they do over a network.
        try? await Task.sleep(for: .milliseconds(5))
        return try await wrapped.upload(
            file: file, remotePath: remotePath, size: size, resume: resume, onResumeData: onResumeData, progress: progress)
    }

    func finalize(resume: ResumeData, remotePath: String, size: Int64) async throws(UploadTargetError) -> RemoteFile {
        try await wrapped.finalize(resume: resume, remotePath: remotePath, size: size)
    }
    func processingStatus(remoteId: String) async throws(UploadTargetError) -> ProcessingStatus {
        try await wrapped.processingStatus(remoteId: remoteId)
    }
    func probe() async throws(UploadTargetError) {
        if state.withLock({ $0.capacity == 0 }) { throw .retryable("too many requests", status: 429, retryAfter: retryAfter) }
        try await wrapped.probe()
    }
    func delete(remoteId: String) async throws(UploadTargetError) { try await wrapped.delete(remoteId: remoteId) }
    func rename(remoteId: String, to newRemotePath: String) async throws(UploadTargetError) {
        try await wrapped.rename(remoteId: remoteId, to: newRemotePath)
    }
    func terminate(resume: ResumeData) async throws(UploadTargetError) { try await wrapped.terminate(resume: resume) }
}

@Suite("Throttling: 429 slows the engine down, never fails a file")
struct ThrottlingEngineTests {
    static func engine(_ target: ThrottlingTarget, in directory: TemporaryDirectory, maxRequests: Int) throws -> UploadEngine {
        var configuration = EngineHarness.configuration
        configuration.maxRequests = maxRequests
        try FileManager.default.createDirectory(atPath: directory.appending("files"), withIntermediateDirectories: true)
        return UploadEngine(
            journal: try UploadJournal(path: directory.appending("journal.sqlite")), target: target,
            cacheRoot: directory.appending("files"), configuration: configuration, logger: EngineHarness.logger)
    }

    static func write(_ engine: UploadEngine, _ directory: TemporaryDirectory, _ path: String, _ data: Data) async throws {
        try await engine.fileWritten(path)
        try data.write(to: URL(fileURLWithPath: directory.appending("files/" + path)))
        try await engine.fileClosed(path, size: Int64(data.count))
    }

    @Test func concurrencyShrinksUnderThrottlingAndGrowsBackWhenItEnds() async throws {
        let directory = try TemporaryDirectory("throttled-engine")
        defer { directory.remove() }
        let target = ThrottlingTarget(wrapping: FakeUploadTarget(), capacity: 3, retryAfter: .milliseconds(50))
        let engine = try Self.engine(target, in: directory, maxRequests: 64)
        try await engine.start()

        // The service takes 3 uploads at once: the engine, starting at 16, is told so by 429s.
        let first = (0..<150).map { "a\($0).bin" }
        for (index, name) in first.enumerated() { try await Self.write(engine, directory, name, content(index, size: 3000)) }
        try await waitUntil(timeout: 60, "the throttled files are READY") { await engine.all(first, are: .ready) }
        #expect(target.refused > 0, "the service never throttled")
        let throttled = await engine.window
        #expect(throttled.throttledCount > 0)
        // Before the first 429 the limit grows with every success (slow start), so it shrinks from its peak.
        #expect(throttled.lowestLimit < throttled.highestLimit, "the limit shrank: \(throttled.highestLimit) → \(throttled.lowestLimit)")
        #expect(throttled.lowestLimit <= max(RequestWindow.initialLimit, throttled.highestLimit / 2))
        for name in first {
            let record = await engine.status(of: name)
            #expect(record?.attempts == 0, "a 429 counted as a failed attempt of \(name)")
            #expect(record?.error == nil)
        }
        #expect(engine.currentService().reachable, "throttling is not an outage when other requests succeed")

        // The service takes everything again: the limit grows back, and more uploads run at once.
        target.setCapacity(.max)
        _ = target.takeMostRunning()
        let second = (0..<400).map { "b\($0).bin" }
        for (index, name) in second.enumerated() { try await Self.write(engine, directory, name, content(1000 + index, size: 3000)) }
        try await waitUntil(timeout: 60, "the second batch is READY") { await engine.all(second, are: .ready) }
        let recovered = await engine.window
        #expect(recovered.limit > throttled.lowestLimit, "the limit grew back: \(throttled.lowestLimit) → \(recovered.limit)")
        #expect(target.takeMostRunning() > 3, "more than the throttled 3 ran at once afterwards")
        await engine.shutdown(waitForUploads: true)
    }

    @Test func aServiceThatOnlyThrottlesIsProbedAndTheFilesWait() async throws {
        let directory = try TemporaryDirectory("throttled-out")
        defer { directory.remove() }
        let target = ThrottlingTarget(wrapping: FakeUploadTarget(), capacity: 0, retryAfter: .milliseconds(100))
        let engine = try Self.engine(target, in: directory, maxRequests: 64)
        try await engine.start()
        let names = (0..<10).map { "c\($0).bin" }
        for (index, name) in names.enumerated() { try await Self.write(engine, directory, name, content(index, size: 1000)) }
        try await waitUntil("nothing but 429, pause after pause, is an outage") { !engine.currentService().reachable }
        // Requests sent before the outage was declared may still be on their way: each file goes back to
        // waiting when its 429 comes back.
        try await waitUntil("every file waits") { await engine.all(names, are: .pending) }
        #expect(!engine.currentService().reachable)
        for name in names {
            let record = await engine.status(of: name)
            #expect(record?.state == .pending)
            #expect(record?.attempts == 0)
        }
        target.setCapacity(.max)
        try await waitUntil(timeout: 30, "READY once the service takes uploads") { await engine.all(names, are: .ready) }
        #expect(engine.currentService().reachable)
        await engine.shutdown(waitForUploads: true)
    }
}
