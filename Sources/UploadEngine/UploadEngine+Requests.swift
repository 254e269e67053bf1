import Foundation
import Logging
import UploadStatus

/// Requests to the target (upload, finalize, processing status) and what comes back from them. Each runs in
/// a task of its own and reports through the actor with its token; a result whose token is no longer the
/// file's current request belongs to a superseded request.
extension UploadEngine {
    func startUpload(_ record: UploadRecord, resume: ResumeData?) {
        guard !stopped else { return }
        let token = slots.takeToken()
        let path = record.path, generation = record.generation, size = record.size
        let cacheRoot = self.cacheRoot
        let target = self.target
        let small = isSmall(size)
        slots.transferStarted(small: small)
        let task = Task { [weak self] in
            let result: Result<UploadOutcome, UploadTargetError>
            do throws(UploadTargetError) {
                // The target reads the file through a descriptor opened now, so a rename of the cache file
                // (rsync renames its temp file right after closing it) cannot pull it away mid-upload.
                let opened = try OpenedCacheFile(path, under: cacheRoot)
                defer { opened.close() }
                let outcome = try await target.upload(
                    file: opened.path, remotePath: path, size: size, resume: resume,
                    onResumeData: { [weak self] data in await self?.uploadCreated(path, token: token, generation: generation, data) },
                    progress: { [weak self] bytes in
                        Task { await self?.uploadProgressed(path, token: token, generation: generation, bytes: bytes) }
                    })
                result = .success(outcome)
            } catch {
                result = .failure(error)
            }
            await self?.uploadEnded(path, token: token, generation: generation, small: small, result)
        }
        slots.setRequest(.init(token: token, handle: task, started: resume == nil), at: path)
    }

    private func uploadCreated(_ path: String, token: UInt64, generation: Int64, _ data: ResumeData) {
        let path = slots.path(of: token, or: path)
        guard slots.isCurrent(token, at: path) else {
            guard !stopped else { return }
            // Superseded while the server was creating it: nobody will finish this upload, so delete it.
            queue(.terminate(data), for: path, what: "termination of a superseded upload")
            return
        }
        deliver(.uploadCreated(generation: generation, data), at: path)
    }

    private func uploadProgressed(_ path: String, token: UInt64, generation: Int64, bytes: Int64) {
        let path = slots.path(of: token, or: path)
        guard let acknowledged = slots.recordProgress(bytes, token: token, at: path) else { return }
        if acknowledged > 0 { serviceAnswered() }
        recordAcknowledged(acknowledged)
        deliver(.uploadProgress(generation: generation, bytes: bytes), at: path)
    }

    private func recordAcknowledged(_ bytes: Int64) {
        guard bytes > 0 else { return }
        metrics.bytesUploaded.increment(by: bytes)
        readModel.recordAcknowledged(bytes)
    }

    private func uploadEnded(
        _ path: String, token: UInt64, generation: Int64, small: Bool, _ result: Result<UploadOutcome, UploadTargetError>
    ) {
        let path = slots.path(of: token, or: path)
        slots.transferEnded(small: small)
        if let request = slots.request(at: path), request.token == token {
            // A progress report still on its way is dropped once the request is gone: count what it would have.
            if case .success = result, request.started, let size = records[path]?.size {
                recordAcknowledged(max(0, size - request.progress))
            }
            _ = slots.removeRequest(at: path)
            switch result {
            case .success(let outcome):
                serviceAnswered()
                requestSucceeded()
                deliver(.uploadFinished(generation: generation, outcome), at: path)
            case .failure(let error) where heldForThrottling(error):
                // Not an attempt: the file waits for its turn again, after the pause the service asked for.
                logger.debug("upload throttled by the service", metadata: ["path": "\(path)", "error": "\(error)"])
                deliver(.uploadInterrupted(generation: generation), at: path)
            case .failure(let error) where serviceFailed(error):
                logger.info("upload held: the service is unreachable", metadata: ["path": "\(path)", "error": "\(error)"])
                deliver(.uploadInterrupted(generation: generation), at: path)
            case .failure(let error):
                metrics.errors.increment()
                logger.warning("upload failed: \(error)", metadata: ["path": "\(path)"])
                deliver(.uploadFailed(generation: generation, error), at: path)
            }
        } else if case .success(.stored(let file)) = result {
            discardSuperseded(file, path: path)
        }
        pump()
    }

    /// Asks the service to finalize; during an outage the file stays `finalizing` and is finalized once the
    /// service answers.
    func finalize(_ record: UploadRecord, resume: ResumeData?) {
        guard !stopped, !serviceIsUnreachable, !heldForPause(record.path) else { return }
        let path = record.path, generation = record.generation, size = record.size
        let target = self.target
        request(path) {
            guard let resume else { return .uploadFailed(generation: generation, .permanent("nothing to finalize: no upload token")) }
            do throws(UploadTargetError) {
                return .finalizeFinished(generation: generation, try await target.finalize(resume: resume, remotePath: path, size: size))
            } catch {
                return .uploadFailed(generation: generation, error)
            }
        }
    }

    /// Asks the service for the processing status; during an outage the poll waits until it answers.
    func pollProcessing(_ path: String) {
        guard !stopped, !serviceIsUnreachable, !heldForPause(path), let record = records[path], record.state == .processing,
            let remoteId = record.remoteId
        else { return }
        let generation = record.generation
        let target = self.target
        request(path) {
            do throws(UploadTargetError) {
                return .processingResult(generation: generation, try await target.processingStatus(remoteId: remoteId))
            } catch {
                return .uploadFailed(generation: generation, error)
            }
        }
    }

    /// Runs a request that holds no transfer slot and turns into one event.
    private func request(_ path: String, _ body: @escaping @Sendable () async -> UploadEvent) {
        let token = slots.takeToken()
        let task = Task { [weak self] in
            let event = await body()
            await self?.requestEnded(path, token: token, event)
        }
        slots.setRequest(.init(token: token, handle: task), at: path)
    }

    private func requestEnded(_ path: String, token: UInt64, _ event: UploadEvent) {
        let path = slots.path(of: token, or: path)
        guard slots.isCurrent(token, at: path) else {
            if case .finalizeFinished(_, let file) = event { discardSuperseded(file, path: path) }
            return
        }
        _ = slots.removeRequest(at: path)
        if case .uploadFailed(_, let error) = event {
            // Throttled: asked again when the pause ends (`pauseEnded`).
            if heldForThrottling(error) {
                throttleHeld.insert(path)
                return
            }
            // Held during an outage: asked again when the service answers (`serviceCameBack`).
            if serviceFailed(error) { return }
        } else {
            serviceAnswered()
            requestSucceeded()
        }
        deliver(event, at: path)
    }

    /// The service stored a version nobody tracks any more (written over, renamed or removed while it was
    /// being finalized): move it to the trash so it does not linger as an orphan.
    private func discardSuperseded(_ file: RemoteFile, path: String) {
        guard !stopped else { return }
        logger.info("discarding a superseded remote file", metadata: ["path": "\(path)", "remoteId": "\(file.remoteId)"])
        queue(.delete(remoteId: file.remoteId), for: path, what: "deletion of a superseded file")
    }

    func cancelRequest(_ path: String) {
        slots.removeRequest(at: path)?.handle.cancel()
    }

    /// Hands the request running for `from` to `to` (a rename its upload survives).
    func moveRequest(from: String, to: String) {
        slots.moveRequest(from: from, to: to)?.handle.cancel()
    }

    /// One log line per upload that ended: READY, or failed (with the error and whether it is retried).
    /// `seconds` counts from the file's last close, so it includes the write-back delay and any retries.
    func logOutcome(_ record: UploadRecord, now: Date) {
        var metadata: Logger.Metadata = [
            "path": "\(record.path)", "size": "\(record.size)", "attempts": "\(record.attempts + 1)",
            "seconds": "\(String(format: "%.3f", now.timeIntervalSince(record.lastCloseAt ?? record.updatedAt)))",
        ]
        if record.state == .ready {
            metrics.uploadsReady.increment()
            if let remoteId = record.remoteId { metadata["remote_id"] = "\(remoteId)" }
            logger.info("upload ready", metadata: metadata)
        } else {
            metrics.uploadsFailed.increment()
            metadata["error"] = "\(record.error ?? "")"
            metadata["retry_at"] = "\(record.nextAttemptAt?.ISO8601Format() ?? "none")"
            metadata["attempts"] = "\(record.attempts)"
            logger.warning("upload failed", metadata: metadata)
        }
    }
}
