import Logging
import UploadStatus

/// The remote operations being carried out: deletes, renames and terminations from the journal's outbox.
///
/// Operations on the same remote file or upload run one after another, in the order they were queued
/// (rename a→b, then b→c): each waits for the last one queued on its subject. An operation leaves the
/// journal once the service did it or refused it for good; one still running at shutdown stays there for the
/// next start.
struct RemoteOperationOutbox {
    private var running: [Int64: Task<Void, Never>] = [:]
    /// The last queued operation on each subject, which the next one on it waits for.
    private var last: [String: (id: Int64, task: Task<Void, Never>)] = [:]

    /// Whether no operation is running.
    var isEmpty: Bool { running.isEmpty }

    /// Whether the operation with journal id `id` runs already.
    func isRunning(_ id: Int64) -> Bool { running[id] != nil }

    /// Starts `pending`: `perform` runs after the operation queued before it on the same subject has ended.
    /// `ended` is called on the task once `perform` returned without being cancelled.
    mutating func start(
        _ pending: PendingRemoteOperation, perform: @escaping @Sendable () async -> Void,
        ended: @escaping @Sendable () async -> Void
    ) {
        let previous = last[pending.operation.subject]
        let task = Task {
            if let previous { await previous.task.value }
            await perform()
            if Task.isCancelled { return }  // stays in the journal for the next start
            await ended()
        }
        running[pending.id] = task
        last[pending.operation.subject] = (pending.id, task)
    }

    /// The operation `id` on `subject` is done.
    mutating func finished(_ id: Int64, subject: String) {
        running[id] = nil
        if last[subject]?.id == id { last[subject] = nil }
    }

    /// Cancels every running operation (shutdown).
    mutating func cancelAll() {
        for (_, task) in running { task.cancel() }
        running = [:]
        last = [:]
    }

    /// Carries out `operation` against `target`, retrying failures that may pass with `policy`'s backoff up to
    /// its `maxAttempts` (unlimited by default); a refusal, or the last failure, is logged and given up.
    ///
    /// Each attempt first waits at `reachability` (closed while the service is unreachable) and reports its
    /// result through `report` (nil for success), which answers whether a failure was held by an outage:
    /// such a failure is not an attempt, and the operation waits for the service instead.
    static func perform(
        _ operation: RemoteOperation, id: Int64, target: any UploadTarget, policy: RetryPolicy, logger: Logger,
        reachability: ReachabilityGate, report: @escaping @Sendable (UploadTargetError?) async -> Bool
    ) async {
        var attempt = 0
        while !Task.isCancelled {
            await reachability.waitUntilOpen()
            if Task.isCancelled { return }
            do throws(UploadTargetError) {
                switch operation {
                case .terminate(let resume): try await target.terminate(resume: resume)
                case .delete(let remoteId): try await target.delete(remoteId: remoteId)
                case .rename(let remoteId, let newPath): try await target.rename(remoteId: remoteId, to: newPath)
                }
                _ = await report(nil)
                return
            } catch {
                if await report(error) { continue }
                attempt += 1
                if !error.isRetryable || attempt >= policy.maxAttempts {
                    logger.warning("remote operation given up: \(operation): \(error)")
                    return
                }
                let delay = policy.delay(afterAttempt: attempt, seed: UInt64(id) &+ UInt64(attempt))
                do { try await Task.sleep(for: delay) } catch { return }
            }
        }
    }
}
