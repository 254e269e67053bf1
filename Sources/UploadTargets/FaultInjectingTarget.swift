import Synchronization
import Timekeeping
import UploadEngine
import UploadStatus

/// An ``UploadTarget`` that wraps another one (the fake service of the engine's tests, or a real target such
/// as ``MediaManagerTarget``) and injects faults into its calls; for tests and drills, in the manner of
/// mountpoint-s3's `FailureClient`. Whatever no fault touches is passed to the wrapped target unchanged.
///
/// Faults that interrupt an upload part-way work over any target: the wrapped upload runs in a task of its
/// own, its `progress` reports are watched, and once the server has acknowledged the fault's offset that task
/// is cancelled (targets stop promptly when cancelled, see ``UploadTarget``) and the call fails. What the
/// server received stays there, so the next attempt resumes from the server's offset as after a real failure.
///
/// The class counts calls and fired faults (``calls``, ``injected``) so a test can check that each fault
/// fired as often as configured and no more.
public final class FaultInjectingTarget: UploadTarget {
    /// The faults to inject. Upload faults are checked in this order: ``permanentFailures``,
    /// ``failFirstUploads``, ``stallAfterBytes``, ``dropAfterBytes``, ``failureRate``; one upload call gets at
    /// most one of them.
    public struct Faults: Sendable, Hashable {
        /// The first this many upload calls (counting every call) fail at once with a retryable
        /// "503: injected failure", before the wrapped target is asked: a service that is briefly down.
        public var failFirstUploads: Int
        /// The probability that an upload call fails part-way, at an offset drawn uniformly below the file's
        /// size, with a retryable "connection dropped"; the next attempt resumes. Drawn from a SplitMix64
        /// generator started at ``seed``, so a run can be repeated.
        public var failureRate: Double
        /// The seed of ``failureRate``'s generator.
        public var seed: UInt64
        /// Once: the first upload to get this many bytes acknowledged loses its connection right then
        /// (a retryable "connection dropped"). Uploads of smaller files pass and leave the fault armed.
        public var dropAfterBytes: Int64?
        /// Once: the first upload to get this many bytes acknowledged stops sending and hangs until its task
        /// is cancelled, then fails with a retryable "cancelled": a daemon killed mid-upload.
        public var stallAfterBytes: Int64?
        /// The next this many upload calls fail at once with a non-retryable "400: injected failure", before
        /// the wrapped target is asked: a request the service rejects.
        public var permanentFailures: Int
        /// Requests that hang, every time, until their task is cancelled and then fail with a retryable
        /// "cancelled" (the wrapped target is never asked): a daemon killed while waiting for them.
        public var stalls: Set<Stall>
        /// While set, every request (probes included) fails at once as the outage says, before the wrapped
        /// target is asked: a service that is away. Set and cleared while running with ``setOutage(_:)``.
        public var outage: Outage?

        public init(
            failFirstUploads: Int = 0, failureRate: Double = 0, seed: UInt64 = 42, dropAfterBytes: Int64? = nil,
            stallAfterBytes: Int64? = nil, permanentFailures: Int = 0, stalls: Set<Stall> = []
        ) {
            self.failFirstUploads = failFirstUploads
            self.failureRate = failureRate
            self.seed = seed
            self.dropAfterBytes = dropAfterBytes
            self.stallAfterBytes = stallAfterBytes
            self.permanentFailures = permanentFailures
            self.stalls = stalls
        }
    }

    /// A service outage: how every request fails while it lasts.
    public enum Outage: Sendable, Hashable {
        /// No answer: a retryable "connection refused" (``UploadTargetError/unreachable(_:)``).
        case unreachable
        /// The service answers every request with this status (e.g. 503, or 429 with a `Retry-After`).
        case answering(status: Int, retryAfter: Duration?)

        var error: UploadTargetError {
            switch self {
            case .unreachable: return .unreachable("injected outage: connection refused")
            case .answering(let status, let retryAfter): return .retryable("injected outage", status: status, retryAfter: retryAfter)
            }
        }
    }

    /// Requests other than uploads that ``Faults/stalls`` can hang.
    public enum Stall: Sendable, Hashable {
        /// ``UploadTarget/finalize(resume:remotePath:size:)``.
        case finalize
        /// ``UploadTarget/processingStatus(remoteId:)``.
        case processingStatus
        /// ``UploadTarget/delete(remoteId:)``, ``UploadTarget/rename(remoteId:to:)`` and
        /// ``UploadTarget/terminate(resume:)``.
        case remoteOperations
    }

    /// A fault as it fired, for ``injected``.
    public enum Fault: Sendable, Hashable {
        /// One of ``Faults/failFirstUploads``.
        case failedUpload
        /// One of ``Faults/permanentFailures``.
        case permanentFailure
        /// A part-way failure drawn by ``Faults/failureRate``.
        case failedPartWay
        /// ``Faults/dropAfterBytes``.
        case droppedConnection
        /// ``Faults/stallAfterBytes``.
        case stalledUpload
        /// A request hung by ``Faults/stalls``.
        case stalled(Stall)
        /// A request failed by ``Faults/outage``.
        case outage
    }

    /// How often each request reached this target (faulty or not).
    public struct CallCounts: Sendable, Hashable {
        public var uploads = 0
        public var finalizes = 0
        public var processingStatuses = 0
        public var deletes = 0
        public var renames = 0
        public var terminates = 0
        public var probes = 0
    }

    /// The wrapped target.
    public let wrapped: any UploadTarget
    private let state: Mutex<State>

    private struct State {
        var faults: Faults
        var random: SplitMix64
        var calls = CallCounts()
        var injected: [Fault: Int] = [:]
    }

    /// Wraps `target`, injecting `faults`.
    public init(wrapping target: any UploadTarget, faults: Faults = Faults()) {
        wrapped = target
        state = Mutex(State(faults: faults, random: SplitMix64(seed: faults.seed)))
    }

    /// How often each request reached this target so far.
    public var calls: CallCounts { state.withLock { $0.calls } }

    /// How often each fault fired so far.
    public var injected: [Fault: Int] { state.withLock { $0.injected } }

    /// The faults not yet used up (``Faults/dropAfterBytes`` and ``Faults/stallAfterBytes`` are cleared when
    /// they fire, the counts of failures go down).
    public var faults: Faults { state.withLock { $0.faults } }

    /// Starts (or, with nil, ends) an outage: see ``Faults/outage``.
    public func setOutage(_ outage: Outage?) {
        state.withLock { $0.faults.outage = outage }
    }

    /// The outage's error when one is on, counted as injected.
    private static func outageError(_ state: inout State) -> UploadTargetError? {
        guard let outage = state.faults.outage else { return nil }
        state.injected[.outage, default: 0] += 1
        return outage.error
    }

    // MARK: Uploads

    /// What one upload call does wrong.
    private enum Plan {
        /// Nothing: the wrapped target uploads.
        case pass
        /// Fails at once, without asking the wrapped target.
        case fail(UploadTargetError)
        /// Interrupted once the server has acknowledged `offset` bytes.
        case interrupt(at: Int64, Fault)
    }

    private func plan(size: Int64) -> Plan {
        state.withLock { state in
            state.calls.uploads += 1
            if let error = Self.outageError(&state) { return .fail(error) }
            if state.faults.permanentFailures > 0 {
                state.faults.permanentFailures -= 1
                state.injected[.permanentFailure, default: 0] += 1
                return .fail(.permanent("injected failure", status: 400))
            }
            if state.calls.uploads <= state.faults.failFirstUploads {
                state.injected[.failedUpload, default: 0] += 1
                return .fail(.retryable("injected failure", status: 503))
            }
            if let offset = state.faults.stallAfterBytes, offset <= size { return .interrupt(at: offset, .stalledUpload) }
            if let offset = state.faults.dropAfterBytes, offset <= size { return .interrupt(at: offset, .droppedConnection) }
            guard state.faults.failureRate > 0 else { return .pass }
            let draw = SplitMix64.unitInterval(state.random.next())
            guard draw < state.faults.failureRate else { return .pass }
            return .interrupt(at: Int64(Double(size) * draw / state.faults.failureRate), .failedPartWay)
        }
    }

    /// Whether `fault`, planned for an upload that has just reached its offset, fires now: a part-way failure
    /// always does; a drop or a stall only if no other upload fired it first.
    private func fire(_ fault: Fault) -> Bool {
        state.withLock { state in
            switch fault {
            case .droppedConnection:
                guard state.faults.dropAfterBytes != nil else { return false }
                state.faults.dropAfterBytes = nil
            case .stalledUpload:
                guard state.faults.stallAfterBytes != nil else { return false }
                state.faults.stallAfterBytes = nil
            default: break
            }
            state.injected[fault, default: 0] += 1
            return true
        }
    }

    /// Uploads through the wrapped target unless a fault is planned for this call (see ``Faults``).
    public func upload(
        file: String, remotePath: String, size: Int64, resume: ResumeData?,
        onResumeData: @escaping @Sendable (ResumeData) async -> Void,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws(UploadTargetError) -> UploadOutcome {
        switch plan(size: size) {
        case .pass:
            return try await wrapped.upload(
                file: file, remotePath: remotePath, size: size, resume: resume, onResumeData: onResumeData, progress: progress)
        case .fail(let error):
            throw error
        case .interrupt(let offset, let fault) where offset <= 0:
            if fire(fault) { try await failInterrupted(by: fault) }
            return try await wrapped.upload(
                file: file, remotePath: remotePath, size: size, resume: resume, onResumeData: onResumeData, progress: progress)
        case .interrupt(let offset, let fault):
            let interruption = Interruption()
            let wrapped = self.wrapped
            // A task of its own rather than a task group's child: the progress callback cancels it right away,
            // before the wrapped target sends its next chunk. It starts once its handle is known (so a fault can
            // cancel it from its first report) and is awaited below, so it never outlives the call.
            let task = Task { () async throws -> UploadOutcome in
                await interruption.watching()
                return try await wrapped.upload(
                    file: file, remotePath: remotePath, size: size, resume: resume, onResumeData: onResumeData,
                    progress: { acknowledged in
                        guard !interruption.hasFired else { return }
                        progress(acknowledged)
                        if acknowledged >= offset && self.fire(fault) { interruption.fire() }
                    })
            }
            interruption.watch(task)
            let result = await withTaskCancellationHandler { await task.result } onCancel: { task.cancel() }
            if interruption.hasFired { try await failInterrupted(by: fault) }
            switch result {
            case .success(let outcome): return outcome
            case .failure(let error as UploadTargetError): throw error
            case .failure(let error): throw .retryable("\(error)")
            }
        }
    }

    /// Fails an upload that `fault` interrupted: at once for a dropped connection, after the caller's task is
    /// cancelled for a stall.
    private func failInterrupted(by fault: Fault) async throws(UploadTargetError) -> Never {
        if fault == .stalledUpload { try await hangUntilCancelled() }
        throw .retryable("connection dropped")
    }

    // MARK: Other requests

    /// Counts a request and hangs it if ``Faults/stalls`` says so.
    private func request(_ stall: Stall, count: (inout CallCounts) -> Void) async throws(UploadTargetError) {
        let (stalls, outage) = state.withLock { state -> (Bool, UploadTargetError?) in
            count(&state.calls)
            if let error = Self.outageError(&state) { return (false, error) }
            guard state.faults.stalls.contains(stall) else { return (false, nil) }
            state.injected[.stalled(stall), default: 0] += 1
            return (true, nil)
        }
        if let outage { throw outage }
        if stalls { try await hangUntilCancelled() }
    }

    /// Fails while ``Faults/outage`` is on; otherwise the wrapped target probes.
    public func probe() async throws(UploadTargetError) {
        let outage = state.withLock { state -> UploadTargetError? in
            state.calls.probes += 1
            return Self.outageError(&state)
        }
        if let outage { throw outage }
        try await wrapped.probe()
    }

    private func hangUntilCancelled() async throws(UploadTargetError) -> Never {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(60)) }
        throw .retryable("cancelled")
    }

    /// Hangs when ``Faults/stalls`` holds ``Stall/finalize``; otherwise the wrapped target finalizes.
    public func finalize(resume: ResumeData, remotePath: String, size: Int64) async throws(UploadTargetError) -> RemoteFile {
        try await request(.finalize) { $0.finalizes += 1 }
        return try await wrapped.finalize(resume: resume, remotePath: remotePath, size: size)
    }

    /// Hangs when ``Faults/stalls`` holds ``Stall/processingStatus``; otherwise the wrapped target answers.
    public func processingStatus(remoteId: String) async throws(UploadTargetError) -> ProcessingStatus {
        try await request(.processingStatus) { $0.processingStatuses += 1 }
        return try await wrapped.processingStatus(remoteId: remoteId)
    }

    /// Hangs when ``Faults/stalls`` holds ``Stall/remoteOperations``; otherwise the wrapped target deletes.
    public func delete(remoteId: String) async throws(UploadTargetError) {
        try await request(.remoteOperations) { $0.deletes += 1 }
        try await wrapped.delete(remoteId: remoteId)
    }

    /// Hangs when ``Faults/stalls`` holds ``Stall/remoteOperations``; otherwise the wrapped target renames.
    public func rename(remoteId: String, to newRemotePath: String) async throws(UploadTargetError) {
        try await request(.remoteOperations) { $0.renames += 1 }
        try await wrapped.rename(remoteId: remoteId, to: newRemotePath)
    }

    /// Hangs when ``Faults/stalls`` holds ``Stall/remoteOperations``; otherwise the wrapped target terminates.
    public func terminate(resume: ResumeData) async throws(UploadTargetError) {
        try await request(.remoteOperations) { $0.terminates += 1 }
        try await wrapped.terminate(resume: resume)
    }

    /// Passed to the wrapped target.
    public func prepare(file: String, remotePath: String) {
        wrapped.prepare(file: file, remotePath: remotePath)
    }

    /// The wrapped target's.
    public var namedAtFinalizeFromSize: Int64? { wrapped.namedAtFinalizeFromSize }
}

/// One upload call's interruption: the task running the wrapped upload, cancelled when the fault fires.
private final class Interruption: Sendable {
    private let state = Mutex<(task: Task<UploadOutcome, any Error>?, fired: Bool)>((nil, false))
    private let gate: AsyncStream<Never>
    private let opened: AsyncStream<Never>.Continuation

    init() { (gate, opened) = AsyncStream.makeStream() }

    var hasFired: Bool { state.withLock { $0.fired } }

    /// Watches `task`, and lets it start.
    func watch(_ task: Task<UploadOutcome, any Error>) {
        state.withLock { $0.task = task }
        opened.finish()
    }

    /// Returns once ``watch(_:)`` has been called.
    func watching() async {
        for await _ in gate {}
    }

    func fire() {
        let task = state.withLock { state in
            state.fired = true
            return state.task
        }
        task?.cancel()
    }
}
