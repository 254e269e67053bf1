import UploadStatus

/// The journal's outbox of remote changes (deletes, renames, terminations), carried out in order per subject.
extension UploadEngine {
    /// Carries out a queued remote operation with backoff; removes it from the journal once done or refused.
    func run(_ pending: PendingRemoteOperation) {
        guard !stopped, !outbox.isRunning(pending.id) else { return }
        let (target, policy, logger, reachability) = (self.target, configuration.remoteOperationPolicy, self.logger, self.reachability)
        let subject = pending.operation.subject
        outbox.start(
            pending,
            perform: {
                await RemoteOperationOutbox.perform(
                    pending.operation, id: pending.id, target: target, policy: policy, logger: logger,
                    reachability: reachability,
                    report: { [weak self] error in await self?.remoteOperationReported(error) ?? false })
            },
            ended: { [weak self] in await self?.remoteOperationEnded(pending.id, subject: subject) })
    }

    /// Journals `operation` (nothing else changes) and starts it; `what` names it in the log if that fails.
    func queue(_ operation: RemoteOperation, for path: String, what: String) {
        do {
            for pending in try journal.commit(operations: [operation]) { run(pending) }
        } catch {
            logger.error("cannot queue \(what): \(error)", metadata: ["path": "\(path)"])
        }
    }

    private func remoteOperationReported(_ error: UploadTargetError?) -> Bool {
        guard let error else {
            serviceAnswered()
            return false
        }
        return serviceFailed(error)
    }

    private func remoteOperationEnded(_ id: Int64, subject: String) {
        outbox.finished(id, subject: subject)
        do { try journal.completeOperation(id) } catch {
            logger.error("cannot complete remote operation \(id): \(error)")
        }
    }
}
