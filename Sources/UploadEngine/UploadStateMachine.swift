import Foundation
import UploadStatus

/// The per-file upload state machine: a pure function from (record, event, now) to the new record and the
/// actions the engine must carry out. No I/O, no clock, no randomness: it is tested without a target.
///
/// See docs/ENGINE.md for the transition table.
public struct UploadStateMachine: Sendable {
    /// Quiet time after the last close before an upload starts (rsync's temp file is renamed within it).
    public var writeBackDelay: Duration
    /// Backoff of retryable failures.
    public var retryPolicy: RetryPolicy
    /// Backoff between processing polls (`maxAttempts` is not used).
    public var processingPollPolicy: RetryPolicy
    /// Files of at least this size go by an upload that is named only when finalized
    /// (``UploadTarget/namedAtFinalizeFromSize``): their bytes start moving when the file is closed, and only
    /// the finalize waits for the write-back delay. nil: every upload waits for the delay.
    public var earlyStartMinimumSize: Int64?

    public init(
        writeBackDelay: Duration = .seconds(1),
        retryPolicy: RetryPolicy = RetryPolicy(),
        processingPollPolicy: RetryPolicy = .processingPolls,
        earlyStartMinimumSize: Int64? = nil
    ) {
        self.writeBackDelay = writeBackDelay
        self.retryPolicy = retryPolicy
        self.processingPollPolicy = processingPollPolicy
        self.earlyStartMinimumSize = earlyStartMinimumSize
    }

    /// A new record for a file the journal does not know yet.
    public func newRecord(path: String, now: Date) -> UploadRecord {
        UploadRecord(path: path, state: .local, updatedAt: now, generation: 0)
    }

    /// Applies `event` to `record` at time `now`. When nothing changes, returns the record unchanged and no
    /// actions. Every change comes with `.persist` (or `.forget`) as its first action, except upload progress
    /// and the start of an upload (pending → uploading), which a restart does not need.
    public func transition(_ record: UploadRecord, _ event: UploadEvent, now: Date) -> (UploadRecord, [UploadAction]) {
        var next = record
        var actions: [UploadAction] = []
        let current = { (generation: Int64) in generation == record.generation }

        switch (record.state, event) {
        // MARK: local writes
        case (_, .written):
            if record.state == .local { return (record, []) }
            actions += stopUpload(record)
            if let remoteId = record.remoteId, [.processing, .ready, .failed].contains(record.state) {
                actions.append(.deleteRemote(remoteId: remoteId))
            }
            next.state = .local
            next.generation += 1
            next.uploadedBytes = 0
            next.resume = nil
            next.remoteId = nil
            next.url = nil
            next.error = nil
            next.attempts = 0
            next.nextAttemptAt = nil
            next.processingPolls = 0

        case (.local, .closed(let size)), (.pending, .closed(let size)):
            next.state = .pending
            next.size = size
            next.lastCloseAt = now
            // An upload named at finalize starts now; the finalize waits for the delay.
            actions += startsEarly(next) ? [.enqueue] : writeBack(after: writeBackDelay)

        case (_, .closed):
            // A close without a write (read-only handle, or the write was reported already): nothing changed.
            return (record, [])

        // MARK: write-back delay and slots
        case (.pending, .writeBackElapsed):
            let due = (record.lastCloseAt ?? .distantPast).adding(writeBackDelay)
            if due > now {
                return (record, writeBack(after: .seconds(due.timeIntervalSince(now))))
            }
            return (record, [.enqueue])

        case (.finalizing, .writeBackElapsed):
            // The upload started at close and is complete; the file is named (finalized) once the delay is over.
            if let due = finalizeDue(record, now: now) {
                return (record, [.scheduleFinalize(after: .seconds(due.timeIntervalSince(now)))])
            }
            return (record, [.finalize(resume: record.resume)])

        case (.pending, .slotGranted(let size)):
            next.state = .uploading
            if let size, size != record.size {
                next.size = size
                if record.resume != nil {
                    // The file changed behind the journal's back (e.g. while the daemon was down).
                    actions.append(.terminateRemoteUpload(record.resume!))
                    next.resume = nil
                    next.uploadedBytes = 0
                }
            }
            actions.append(.startUpload(resume: next.resume))
            if actions.count == 1 {
                // Not journalled: after a restart a `pending` file is uploaded the same way as an `uploading` one,
                // and the first thing an upload journals is its resume data (`uploadCreated`).
                next.updatedAt = now
                return (next, actions)
            }

        // MARK: upload results
        case (.uploading, .uploadProgress(let generation, let bytes)) where current(generation):
            next.uploadedBytes = bytes
            next.updatedAt = now
            return (next, [])  // not journalled: a restart asks the server for the offset anyway

        case (.uploading, .uploadCreated(let generation, let resume)) where current(generation):
            next.resume = resume

        case (.uploading, .uploadFinished(let generation, let outcome)) where current(generation):
            next.uploadedBytes = record.size
            next.attempts = 0
            next.error = nil
            switch outcome {
            case .needsFinalize:
                next.state = .finalizing
                if let due = finalizeDue(record, now: now) {
                    actions.append(.scheduleFinalize(after: .seconds(due.timeIntervalSince(now))))
                } else {
                    actions.append(.finalize(resume: record.resume))
                }
            case .stored(let file):
                actions += stored(file, into: &next)
            }

        case (.finalizing, .finalizeFinished(let generation, let file)) where current(generation):
            next.attempts = 0
            next.error = nil
            actions += stored(file, into: &next)

        case (.processing, .processingResult(let generation, let status)) where current(generation):
            switch status {
            case .pending:
                next.processingPolls += 1
                let delay = processingPollPolicy.delay(
                    afterAttempt: next.processingPolls,
                    seed: RetryPolicy.seed(record.path, record.generation, Int64(next.processingPolls)))
                next.updatedAt = now
                return (next, [.pollProcessing(after: delay)])
            case .ready(let url):
                next.state = .ready
                next.url = url ?? record.url
                next.error = nil
            case .failed(let reason):
                next.state = .failed
                next.error = "processing failed: \(reason)"
                next.nextAttemptAt = nil
            }

        case (.uploading, .uploadInterrupted(let generation)) where current(generation):
            // Not journalled (a restart uploads a `pending` file as it does an `uploading` one); the attempt
            // count, the resume data and the offset stay.
            next.state = .pending
            next.updatedAt = now
            return (next, [.enqueueFirst])

        case (.uploading, .uploadFailed(let generation, let error)) where current(generation),
            (.finalizing, .uploadFailed(let generation, let error)) where current(generation),
            (.processing, .uploadFailed(let generation, let error)) where current(generation):
            if record.state == .processing {
                // The status could not be read: ask again later, the file itself is fine.
                next.processingPolls += 1
                let delay = processingPollPolicy.delay(
                    afterAttempt: next.processingPolls,
                    seed: RetryPolicy.seed(record.path, record.generation, Int64(next.processingPolls)))
                next.error = error.description
                actions.append(.pollProcessing(after: delay))
                break
            }
            next.state = .failed
            next.error = error.description
            next.attempts += 1
            if error.isRetryable && next.attempts < retryPolicy.maxAttempts {
                let delay = retryPolicy.delay(
                    afterAttempt: next.attempts, seed: RetryPolicy.seed(record.path, record.generation, Int64(next.attempts)))
                let due = now.adding(delay)
                next.nextAttemptAt = due
                actions.append(.scheduleRetry(at: due))
            } else {
                next.nextAttemptAt = nil
                if !error.isRetryable, let resume = record.resume {
                    // The server refused this upload for good; don't leave it behind there.
                    actions.append(.terminateRemoteUpload(resume))
                    next.resume = nil
                    next.uploadedBytes = 0
                }
            }

        // MARK: retries
        case (.failed, .retryRequested):
            if let remoteId = record.remoteId {
                // The service refused the stored file (processing FAILED): replace it with a fresh upload.
                actions.append(.deleteRemote(remoteId: remoteId))
                next.remoteId = nil
                next.url = nil
                next.uploadedBytes = 0
            }
            next.state = .pending
            next.attempts = 0
            next.nextAttemptAt = nil
            next.processingPolls = 0
            actions.append(.enqueue)

        case (.failed, .retryTimerElapsed):
            guard let due = record.nextAttemptAt else { return (record, []) }
            if due > now { return (record, [.scheduleRetry(at: due)]) }
            next.state = .pending
            next.nextAttemptAt = nil
            actions.append(.enqueue)

        // MARK: unlink
        case (_, .removed):
            actions += stopUpload(record)
            if let remoteId = record.remoteId { actions.append(.deleteRemote(remoteId: remoteId)) }
            return (record, [.forget] + actions)

        // MARK: rename
        case (_, .renamed(let newPath)):
            if newPath == record.path { return (record, []) }
            next.path = newPath
            switch record.state {
            case .local:
                break
            case .pending:
                next.lastCloseAt = now
                actions += startsEarly(next) ? [.enqueue] : writeBack(after: writeBackDelay)
            case .uploading where keepsUpload(record, renamedTo: newPath),
                .finalizing where keepsUpload(record, renamedTo: newPath) && finalizeDue(record, now: now) != nil:
                // Named at finalize, which has not been asked for yet: the upload carries on, and the new name
                // is the one finalized, after a write-back delay from now (rsync renames its temp file at once).
                next.lastCloseAt = now
                actions.append(.followRename)
                if record.state == .finalizing { actions.append(.scheduleFinalize(after: writeBackDelay)) }
            case .uploading, .finalizing:
                actions += stopUpload(record)
                next.state = .pending
                next.resume = nil
                next.uploadedBytes = 0
                next.lastCloseAt = now
                actions += startsEarly(next) ? [.enqueue] : writeBack(after: writeBackDelay)
            case .processing:
                if let remoteId = record.remoteId { actions.append(.renameRemote(remoteId: remoteId, newPath: newPath)) }
                actions.append(.pollProcessing(after: .zero))
            case .ready:
                if let remoteId = record.remoteId { actions.append(.renameRemote(remoteId: remoteId, newPath: newPath)) }
            case .failed:
                if let remoteId = record.remoteId {
                    actions.append(.renameRemote(remoteId: remoteId, newPath: newPath))
                } else if let resume = record.resume {
                    // The upload was created under the old name; start afresh under the new one.
                    actions.append(.terminateRemoteUpload(resume))
                    next.resume = nil
                    next.uploadedBytes = 0
                }
                if let due = record.nextAttemptAt { actions.append(.scheduleRetry(at: due)) }
            }

        // MARK: restart
        case (.local, .restarted):
            // The writer died with the daemon; what it wrote is in the cache file.
            next.state = .pending
            next.lastCloseAt = now
            actions.append(.scheduleWriteBack(after: writeBackDelay))
        case (.finalizing, .restarted):
            // The service may have finalized before the crash: finalize is idempotent per upload token, so ask
            // again rather than upload a second copy.
            return (record, [.finalize(resume: record.resume)])
        case (.pending, .restarted), (.uploading, .restarted):
            next.state = .pending
            if record.state == .pending { return (record, [.enqueue]) }
            actions.append(.enqueue)
        case (.processing, .restarted):
            return (record, [.pollProcessing(after: .zero)])
        case (.failed, .restarted):
            guard let due = record.nextAttemptAt else { return (record, []) }
            return (record, [.scheduleRetry(at: due)])
        case (.ready, .restarted):
            return (record, [])

        default:
            // Stale results of a superseded upload, timers that fired after a state change, and so on.
            return (record, [])
        }

        next.updatedAt = now
        return (next, [.persist] + actions)
    }

    /// Whether `record`'s upload starts when the file is closed rather than after the write-back delay.
    /// Wait out the write-back delay, and let the target prepare the upload meanwhile (a restart does not
    /// prepare: the file was prepared before).
    private func writeBack(after delay: Duration) -> [UploadAction] {
        [.scheduleWriteBack(after: delay), .prepare]
    }

    private func startsEarly(_ record: UploadRecord) -> Bool {
        guard let minimum = earlyStartMinimumSize else { return false }
        return record.size >= minimum
    }

    /// When the complete upload of `record`, started at close, may be finalized (a write-back delay after the
    /// last close or rename), or nil when that time has come or the upload waited for the delay before it began.
    private func finalizeDue(_ record: UploadRecord, now: Date) -> Date? {
        guard startsEarly(record), let lastClose = record.lastCloseAt else { return nil }
        let due = lastClose.adding(writeBackDelay)
        return due > now ? due : nil
    }

    /// Whether the running upload of `record` can carry on under `newPath`: it is named at finalize and
    /// stays in its folder (the folder is fixed when the upload is created).
    private func keepsUpload(_ record: UploadRecord, renamedTo newPath: String) -> Bool {
        startsEarly(record) && Self.folder(of: record.path) == Self.folder(of: newPath)
    }

    /// The directory part of a mount-relative path ("" at the top).
    static func folder(of path: String) -> Substring {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return path[..<slash]
    }

    /// Cancels the running upload of `record` and deletes it on the server when it was created there.
    private func stopUpload(_ record: UploadRecord) -> [UploadAction] {
        switch record.state {
        case .uploading, .finalizing:
            var actions: [UploadAction] = [.cancelUpload]
            if let resume = record.resume { actions.append(.terminateRemoteUpload(resume)) }
            return actions
        case .pending, .failed:
            if let resume = record.resume, record.remoteId == nil { return [.terminateRemoteUpload(resume)] }
            return []
        case .local, .processing, .ready:
            return []
        }
    }

    /// Moves `record` to `processing` or `ready` once the service has `file`.
    private func stored(_ file: RemoteFile, into record: inout UploadRecord) -> [UploadAction] {
        record.remoteId = file.remoteId
        record.url = file.url
        record.resume = nil
        record.processingPolls = 0
        if file.needsProcessing {
            record.state = .processing
            return [.pollProcessing(after: processingPollPolicy.base)]
        }
        record.state = .ready
        return []
    }
}
