import Foundation
import Synchronization
import TestSupport
import Testing
import UploadEngine
import UploadStatus
import UploadTargets

/// `FaultInjectingTarget` over the fake service: each fault fires as configured, only as often as configured,
/// and everything else reaches the wrapped target unchanged.
@Suite("FaultInjectingTarget over the fake service", .timeLimit(.minutes(1)))
struct FaultInjectingTargetTests {
    /// What an upload reported: resume data and acknowledged offsets.
    final class Reports: Sendable {
        private let state = Mutex<(resume: [ResumeData], progress: [Int64])>(([], []))
        var resume: [ResumeData] { state.withLock { $0.resume } }
        var progress: [Int64] { state.withLock { $0.progress } }
        var onResumeData: @Sendable (ResumeData) async -> Void { { data in self.state.withLock { $0.resume.append(data) } } }
        var onProgress: @Sendable (Int64) -> Void { { offset in self.state.withLock { $0.progress.append(offset) } } }
    }

    /// Files in a temporary directory, uploaded through a target.
    struct Files {
        let directory: TemporaryDirectory

        init() throws { directory = try TemporaryDirectory("faults") }

        func make(_ name: String, size: Int) throws -> String {
            let path = directory.appending(name)
            try content(size, size: size).write(to: URL(fileURLWithPath: path))
            return path
        }

        func upload(
            _ target: some UploadTarget, _ path: String, resume: ResumeData? = nil, reports: Reports = Reports()
        ) async throws(UploadTargetError) -> UploadOutcome {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
            return try await target.upload(
                file: path, remotePath: (path as NSString).lastPathComponent, size: size, resume: resume,
                onResumeData: reports.onResumeData, progress: reports.onProgress)
        }
    }

    /// The error `body` threw, or nil if it returned.
    static func error(_ body: () async throws -> Void) async -> UploadTargetError? {
        await thrownError(UploadTargetError.self, body)
    }

    static func uploadCalls(_ service: FakeService) -> [FakeService.Call] {
        service.calls.filter { if case .upload = $0 { true } else { false } }
    }

    @Test func theFirstUploadsFailAtOnceWithoutReachingTheService() async throws {
        let files = try Files()
        defer { files.directory.remove() }
        let fake = FakeUploadTarget()
        let target = FaultInjectingTarget(wrapping: fake, faults: .init(failFirstUploads: 2))
        let file = try files.make("a.bin", size: 5000)
        for _ in 0..<2 {
            let error = await Self.error { _ = try await files.upload(target, file) }
            #expect(error == .retryable("injected failure", status: 503))
        }
        #expect(Self.uploadCalls(fake.service).isEmpty)
        #expect(try await files.upload(target, file) == .needsFinalize)
        #expect(try await files.upload(target, file) == .needsFinalize)
        #expect(Self.uploadCalls(fake.service).count == 2)
        #expect(target.calls.uploads == 4)
        #expect(target.injected == [.failedUpload: 2])
    }

    @Test func permanentFailuresAreNotRetryableAndUsedUp() async throws {
        let files = try Files()
        defer { files.directory.remove() }
        let fake = FakeUploadTarget()
        let target = FaultInjectingTarget(wrapping: fake, faults: .init(permanentFailures: 1))
        let file = try files.make("a.bin", size: 5000)
        let error = try #require(await Self.error { _ = try await files.upload(target, file) })
        #expect(!error.isRetryable)
        #expect(error.description == "400: injected failure")
        #expect(try await files.upload(target, file) == .needsFinalize)
        #expect(target.injected == [.permanentFailure: 1])
        #expect(target.faults.permanentFailures == 0)
    }

    @Test func aDropCutsTheFirstUploadToPassItsOffsetOnceAndTheNextAttemptResumes() async throws {
        let files = try Files()
        defer { files.directory.remove() }
        let fake = FakeUploadTarget(options: .init(chunkSize: 16 * 1024))
        let target = FaultInjectingTarget(wrapping: fake, faults: .init(dropAfterBytes: 40_000))
        // A file smaller than the offset passes and leaves the fault armed.
        #expect(try await files.upload(target, try files.make("small.bin", size: 30_000)) == .needsFinalize)
        #expect(target.injected.isEmpty)

        let big = try files.make("big.bin", size: 100_000)
        let reports = Reports()
        let error = await Self.error { _ = try await files.upload(target, big, reports: reports) }
        #expect(error == .retryable("connection dropped"))
        #expect(fake.service.bytesReceived(for: "big.bin") == 48 * 1024, "cut right after the chunk that passed 40,000 bytes")
        let kib: Int64 = 1024
        #expect(reports.progress == [16 * kib, 32 * kib, 48 * kib], "nothing reported after the drop")
        let resume = try #require(reports.resume.first)

        #expect(try await files.upload(target, big, resume: resume) == .needsFinalize)
        #expect(fake.service.calls.contains(.upload(path: "big.bin", resumedAt: 48 * 1024)))
        #expect(fake.service.bytesReceived(for: "big.bin") == 100_000, "no byte sent twice")
        #expect(try await files.upload(target, try files.make("other.bin", size: 100_000)) == .needsFinalize, "once only")
        #expect(target.injected == [.droppedConnection: 1])
        #expect(target.faults.dropAfterBytes == nil)
    }

    @Test func aStalledUploadHangsUntilCancelledAndTheNextAttemptResumes() async throws {
        let files = try Files()
        defer { files.directory.remove() }
        let fake = FakeUploadTarget(options: .init(chunkSize: 16 * 1024))
        let target = FaultInjectingTarget(wrapping: fake, faults: .init(stallAfterBytes: 64 * 1024))
        let file = try files.make("big.bin", size: 200_000)
        let reports = Reports()
        let task = Task { () async throws -> UploadOutcome in try await files.upload(target, file, reports: reports) }
        try await waitUntil("stalled") { fake.service.bytesReceived(for: "big.bin") >= 64 * 1024 }
        try await Task.sleep(for: .milliseconds(100))
        #expect(fake.service.bytesReceived(for: "big.bin") == 64 * 1024, "nothing sent after the stall")
        #expect(target.injected == [.stalledUpload: 1])
        task.cancel()
        #expect(await Self.error { _ = try await task.value } == .retryable("cancelled"))

        let resume = try #require(reports.resume.first)
        #expect(try await files.upload(target, file, resume: resume) == .needsFinalize)
        #expect(fake.service.calls.contains(.upload(path: "big.bin", resumedAt: 64 * 1024)))
        #expect(fake.service.bytesReceived(for: "big.bin") == 200_000)
        #expect(target.injected == [.stalledUpload: 1], "once only")
    }

    /// Runs `count` uploads of fresh 64 KiB files; the bytes the service had got when each failed, or nil.
    static func failuresAtRate(_ rate: Double, seed: UInt64, count: Int, files: Files) async throws -> [Int64?] {
        let fake = FakeUploadTarget(options: .init(chunkSize: 4096))
        let target = FaultInjectingTarget(wrapping: fake, faults: .init(failureRate: rate, seed: seed))
        var failures: [Int64?] = []
        for index in 0..<count {
            let file = try files.make("f\(index)-\(seed).bin", size: 64 * 1024)
            let error = await Self.error { _ = try await files.upload(target, file) }
            if let error { #expect(error == .retryable("connection dropped")) }
            failures.append(error == nil ? nil : fake.service.bytesReceived(for: (file as NSString).lastPathComponent))
        }
        #expect(target.injected[.failedPartWay, default: 0] == failures.compactMap { $0 }.count)
        return failures
    }

    @Test func theFailureRateFailsPartWayAtSeededOffsets() async throws {
        let files = try Files()
        defer { files.directory.remove() }
        let first = try await Self.failuresAtRate(0.3, seed: 9, count: 60, files: files)
        let again = try await Self.failuresAtRate(0.3, seed: 9, count: 60, files: files)
        let other = try await Self.failuresAtRate(0.3, seed: 10, count: 60, files: files)
        #expect(first == again, "the same seed fails the same uploads at the same offsets")
        #expect(first != other)
        let offsets = first.compactMap { $0 }
        #expect((5...35).contains(offsets.count), "about 30 % of 60: \(offsets.count)")
        #expect(offsets.allSatisfy { $0 <= 64 * 1024 })
        #expect(Set(offsets).count > 3, "at drawn offsets: \(offsets)")
        #expect(try await Self.failuresAtRate(0, seed: 9, count: 20, files: files).allSatisfy { $0 == nil })
    }

    @Test func cancellingTheCallerStopsTheWrappedUploadBeforeItsFault() async throws {
        let files = try Files()
        defer { files.directory.remove() }
        let fake = FakeUploadTarget(options: .init(chunkSize: 4096, chunkDelay: .milliseconds(5)))
        let target = FaultInjectingTarget(wrapping: fake, faults: .init(dropAfterBytes: 150_000))
        let file = try files.make("big.bin", size: 200_000)
        let task = Task { () async throws -> UploadOutcome in try await files.upload(target, file) }
        try await waitUntil("uploading") { fake.service.bytesReceived(for: "big.bin") >= 32 * 1024 }
        task.cancel()
        #expect(await Self.error { _ = try await task.value } == .retryable("cancelled"))
        let stopped = fake.service.bytesReceived(for: "big.bin")
        try await Task.sleep(for: .milliseconds(50))
        #expect(fake.service.bytesReceived(for: "big.bin") == stopped)
        #expect(stopped < 150_000)
        #expect(target.injected.isEmpty)
        #expect(target.faults.dropAfterBytes == 150_000, "still armed")
    }

    /// Set once, read from any task.
    final class Flag: Sendable {
        private let value = Mutex(false)
        var isSet: Bool { value.withLock { $0 } }
        func set() { value.withLock { $0 = true } }
    }

    /// Whether `request` hangs: if it has not returned after 100 ms it is cancelled and must then fail with a
    /// retryable "cancelled".
    static func hangs(_ request: @escaping @Sendable () async throws -> Void) async throws -> Bool {
        let done = Flag()
        let task = Task {
            defer { done.set() }
            try await request()
        }
        try await Task.sleep(for: .milliseconds(100))
        if done.isSet {
            try await task.value
            return false
        }
        task.cancel()
        #expect(await Self.error { try await task.value } == .retryable("cancelled"))
        return true
    }

    @Test(arguments: [FaultInjectingTarget.Stall.finalize, .processingStatus, .remoteOperations])
    func stalledRequestsHangUntilCancelledAndNeverReachTheService(stall: FaultInjectingTarget.Stall) async throws {
        let files = try Files()
        defer { files.directory.remove() }
        let fake = FakeUploadTarget(options: .init(processingPolls: 0))
        let reports = Reports()
        #expect(try await files.upload(fake, try files.make("a.bin", size: 5000), reports: reports) == .needsFinalize)
        let resume = try #require(reports.resume.first)
        let stored = try await fake.finalize(resume: resume, remotePath: "a.bin", size: 5000)
        let logged = fake.service.calls.count

        let target = FaultInjectingTarget(wrapping: fake, faults: .init(stalls: [stall]))
        let id = stored.remoteId
        let finalizeHangs = try await Self.hangs { _ = try await target.finalize(resume: resume, remotePath: "a.bin", size: 5000) }
        #expect(finalizeHangs == (stall == .finalize))
        #expect(try await Self.hangs { _ = try await target.processingStatus(remoteId: id) } == (stall == .processingStatus))
        #expect(try await Self.hangs { try await target.rename(remoteId: id, to: "b.bin") } == (stall == .remoteOperations))
        #expect(try await Self.hangs { try await target.delete(remoteId: id) } == (stall == .remoteOperations))
        #expect(try await Self.hangs { try await target.terminate(resume: resume) } == (stall == .remoteOperations))

        let hung = stall == .remoteOperations ? 3 : 1
        #expect(target.injected == [.stalled(stall): hung])
        #expect(fake.service.calls.count == logged + 5 - hung, "stalled requests never reached the service")
        let calls = target.calls
        #expect(calls.uploads == 0 && calls.finalizes == 1 && calls.processingStatuses == 1)
        #expect(calls.renames == 1 && calls.deletes == 1 && calls.terminates == 1)
    }

    @Test func withoutFaultsEverythingReachesTheWrappedTarget() async throws {
        let files = try Files()
        defer { files.directory.remove() }
        let fake = FakeUploadTarget(options: .init(processingPolls: 1, namedAtFinalizeFromSize: 10_000))
        let target = FaultInjectingTarget(wrapping: fake)
        #expect(target.namedAtFinalizeFromSize == 10_000)
        let reports = Reports()
        #expect(try await files.upload(target, try files.make("a.bin", size: 20_000), reports: reports) == .needsFinalize)
        #expect(reports.progress.last == 20_000)
        let resume = try #require(reports.resume.first)
        target.prepare(file: files.directory.appending("a.bin"), remotePath: "a.bin")
        let stored = try await target.finalize(resume: resume, remotePath: "c.bin", size: 20_000)
        #expect(try await target.processingStatus(remoteId: stored.remoteId) == .pending)
        #expect(try await target.processingStatus(remoteId: stored.remoteId) == .ready(url: "https://media.example/\(stored.remoteId)"))
        try await target.rename(remoteId: stored.remoteId, to: "d.bin")
        #expect(fake.service.liveFiles.keys.sorted() == ["d.bin"])
        try await target.delete(remoteId: stored.remoteId)
        #expect(fake.service.liveFiles.isEmpty)
        try await target.terminate(resume: resume)
        #expect(target.injected.isEmpty)
        #expect(target.calls.uploads == 1 && target.calls.finalizes == 1 && target.calls.processingStatuses == 2)
    }
}
