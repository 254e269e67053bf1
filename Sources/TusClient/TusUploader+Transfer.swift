import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Timekeeping
import TusCore

extension TusUploader {
    /// Asks the server how much of an upload it has (`HEAD`).
    /// - Throws: ``TusError/uploadNotFound(_:)`` when the upload is gone (404, 410) or expired.
    public func status(of uploadURL: URL) async throws -> TusUpload {
        var budget = RetryBudget(policy: configuration.retryPolicy)
        return try await retrying(&budget, what: "HEAD \(uploadURL.absoluteString)") {
            try await self.head(uploadURL)
        }
    }

    /// The server's offset of an upload (`HEAD`); shorthand for `status(of:).offset`.
    public func offset(of uploadURL: URL) async throws -> Int64 {
        try await status(of: uploadURL).offset
    }

    /// Sends the file at `path` to an existing upload, from `offset` (the server's, from the journal or a HEAD)
    /// to the end, in PATCH requests of ``Configuration/chunkSize`` bytes.
    ///
    /// PATCHes grow on a fast link up to ``Configuration/maximumChunkSize`` (see ``ChunkSizer``). When a
    /// connection is cut and the server kept nothing of that request, later requests of this call are half as
    /// large (down to ``minimumAdaptiveChunkSize``) and no longer grow.
    ///
    /// With `offset` nil the server is asked first. `endpoint` (where the upload was created) is where the
    /// server's capabilities are asked; by default the upload URL's parent. After any failure the server is asked again before the next
    /// try, so bytes it kept from a broken request are not sent twice.
    /// - Returns: the finished upload (offset = length).
    /// - Throws: ``TusError/uploadNotFound(_:)`` when the upload is gone or expired (create a new one);
    ///   ``TusError/http(status:message:)`` for answers that are not retried; `CancellationError` when the task
    ///   was cancelled.
    public func resume(
        _ uploadURL: URL, file path: String, from offset: Int64? = nil, endpoint: URL? = nil,
        progress: TusProgressHandler? = nil
    ) async throws -> TusUpload {
        let file = try ReadOnlyFile(path: path)
        let length = try file.size()
        let endpoint = endpoint ?? uploadURL.deletingLastPathComponent()
        let capabilities = configuration.sendsChecksums ? try? await capabilities(of: endpoint) : nil
        let checksumAlgorithm = capabilities?.checksumAlgorithm
        var budget = RetryBudget(policy: configuration.retryPolicy)
        var current = TusUpload(url: uploadURL, offset: offset ?? 0, length: length)
        var mustAskServer = offset == nil
        var reported: Int64 = -1
        var sizer = ChunkSizer(
            size: configuration.chunkSize, maximum: configuration.maximumChunkSize, duration: configuration.chunkDuration)
        var cutAt: Int64?  // offset of a PATCH whose connection broke, until the server is asked
        // The checksum of the next chunk, computed while the current one is sent, so only the first chunk waits.
        var nextDigest: PendingDigest?
        defer { nextDigest?.cancel() }

        while true {
            try Task.checkCancellation()
            do {
                if mustAskServer {
                    let status = try await head(uploadURL)
                    if let serverLength = status.length, serverLength != length {
                        throw TusError.file(
                            path: path, message: "file has \(length) bytes but the upload was created for \(serverLength)")
                    }
                    // Bytes a broken request left on the server count as progress: the budget starts again.
                    if status.offset > current.offset { budget.recordProgress() }
                    // A cut request that left nothing (a server that checks Upload-Checksum must drop a partial
                    // body, a link that breaks long requests): send smaller requests from now on.
                    if let cut = cutAt, status.offset <= cut, sizer.cutWithoutProgress(minimum: Self.minimumAdaptiveChunkSize) {
                        logger.notice("connection cut without progress, halving the chunk size", metadata: ["chunk_size": "\(sizer.size)"])
                    }
                    cutAt = nil
                    current.offset = status.offset
                    current.expires = status.expires ?? current.expires
                    mustAskServer = false
                }
                if current.offset > reported {
                    reported = current.offset
                    progress?(TusProgress(acknowledged: current.offset, total: length))
                }
                if current.offset >= length { return current }
                if current.isExpired() { throw TusError.uploadNotFound(uploadURL) }

                // With checksums, this PATCH's size is one of those its digest was computed for while the PATCH
                // before went: the largest not above the size the link now calls for.
                var count = min(sizer.size, length - current.offset)
                if checksumAlgorithm != nil, let next = nextDigest, next.offset == current.offset,
                    let computed = next.largestCount(notAbove: count)
                {
                    count = computed
                }
                var checksum: String?
                if let checksumAlgorithm {
                    let pending: PendingDigest
                    if let next = nextDigest, next.covers(offset: current.offset, count: count) {
                        pending = next
                    } else {
                        nextDigest?.cancel()
                        pending = PendingDigest(
                            checksumAlgorithm, file: file, offset: current.offset, counts: [count],
                            blockSize: configuration.readBlockSize)
                    }
                    nextDigest = nil
                    checksum = try await pending.digest(of: count)
                    pending.cancel()  // a longer candidate is not wanted any more
                    let nextOffset = current.offset + count
                    if nextOffset < length {
                        // The next PATCH's digest for the size PATCHes have now and for the size they may grow
                        // to after this one (at most 4×): one pass over the data gives both.
                        let remaining = length - nextOffset
                        let grown = min(Int64(Double(sizer.size) * ChunkSizer.largestGrowth), sizer.maximum, remaining)
                        nextDigest = PendingDigest(
                            checksumAlgorithm, file: file, offset: nextOffset, counts: [min(sizer.size, remaining), grown],
                            blockSize: configuration.readBlockSize)
                    }
                }
                try Task.checkCancellation()  // cancelled while the progress was reported: send no new PATCH
                let started = ContinuousClock.now
                let answer = try await patch(uploadURL, file: file, offset: current.offset, count: count, checksum: checksum)
                if answer.offset == current.offset + count,
                    sizer.sent(count, in: ContinuousClock.now - started, last: answer.offset >= length)
                {
                    logger.debug("PATCHes grow", metadata: ["chunk_size": "\(sizer.size)"])
                }
                current.expires = answer.expires ?? current.expires
                guard answer.offset > current.offset, answer.offset <= length else {
                    throw TusError.protocolViolation(
                        "PATCH at \(current.offset) answered Upload-Offset \(answer.offset) (length \(length))")
                }
                current.offset = answer.offset
                budget.recordProgress()
            } catch {
                let failure = try classify(error)
                guard let wait = budget.recordFailure(retryAfter: failure.retryAfter, random: configuration.random()) else {
                    throw failure.error
                }
                logger.notice(
                    "upload request failed, retrying",
                    metadata: [
                        "url": "\(uploadURL.absoluteString)", "offset": "\(current.offset)", "error": "\(failure.error)",
                        "attempt": "\(budget.consecutiveFailures)", "wait_ms": "\(Int(wait.seconds * 1000))",
                    ])
                if case TusError.network = failure.error { cutAt = current.offset }
                try await configuration.sleep(wait)
                mustAskServer = true
            }
        }
    }

    /// Deletes an upload (`DELETE`, termination extension). An upload that is already gone is not an error.
    public func terminate(_ uploadURL: URL) async throws {
        var budget = RetryBudget(policy: configuration.retryPolicy)
        do {
            try await retrying(&budget, what: "DELETE \(uploadURL.absoluteString)") {
                _ = try await self.send(.DELETE, uploadURL, body: nil)
            }
        } catch let error as TusError where error.status == 404 || error.status == 410 {
            return
        }
    }

    // MARK: - Whole upload

    /// Uploads the file at `path` to `endpoint` from start to end: create, then PATCH until done.
    ///
    /// If the upload disappears or expires on the way, a new one is created (once) and the file sent again.
    /// - Parameter onCreated: called with each new upload right after creation (persist its URL to resume later).
    /// - Returns: the finished upload.
    public func upload(
        file path: String, to endpoint: URL, metadata: [String: String] = [:], progress: TusProgressHandler? = nil,
        onCreated: (@Sendable (TusUpload) async throws -> Void)? = nil
    ) async throws -> TusUpload {
        var recreations = 0
        while true {
            let created = try await create(at: endpoint, file: path, metadata: metadata, progress: progress)
            try await onCreated?(created)
            if created.isComplete { return created }
            do {
                return try await resume(created.url, file: path, from: created.offset, endpoint: endpoint, progress: progress)
            } catch TusError.uploadNotFound(let url) where recreations == 0 {
                logger.notice("upload vanished on the server, starting a new one", metadata: ["url": "\(url.absoluteString)"])
                recreations += 1
            }
        }
    }

    // MARK: - Single requests

    private func head(_ uploadURL: URL) async throws -> TusUpload {
        let response: HTTPResponse
        do {
            response = try await send(.HEAD, uploadURL, body: nil)
        } catch let error as HTTPStatusFailure where [404, 410, 403].contains(error.status) {
            throw TusError.uploadNotFound(uploadURL)
        }
        guard let offsetText = response.headers.first(name: TusHeader.uploadOffset), let offset = Int64(offsetText),
            offset >= 0
        else {
            throw TusError.protocolViolation("HEAD \(uploadURL.absoluteString) answered without a valid Upload-Offset")
        }
        let upload = TusUpload(
            url: uploadURL, offset: offset,
            length: response.headers.first(name: TusHeader.uploadLength).flatMap { Int64($0) },
            expires: response.headers.first(name: TusHeader.uploadExpires).flatMap(HTTPDate.parse),
            metadata: response.headers.first(name: TusHeader.uploadMetadata))
        if upload.isExpired() { throw TusError.uploadNotFound(uploadURL) }
        return upload
    }

    private func patch(
        _ uploadURL: URL, file: ReadOnlyFile, offset: Int64, count: Int64, checksum: String?
    ) async throws -> (offset: Int64, expires: Date?) {
        var headers = HTTPHeaders()
        headers.add(name: TusHeader.uploadOffset, value: String(offset))
        headers.add(name: HTTPHeaderName.contentType, value: TusHeader.offsetOctetStream)
        if let checksum { headers.add(name: TusHeader.uploadChecksum, value: checksum) }
        let response: HTTPResponse
        do {
            response = try await send(.PATCH, uploadURL, headers: headers, file: file, offset: offset, count: count)
        } catch let error as HTTPStatusFailure where error.status == 404 || error.status == 410 {
            throw TusError.uploadNotFound(uploadURL)
        }
        guard let text = response.headers.first(name: TusHeader.uploadOffset), let newOffset = Int64(text) else {
            throw TusError.protocolViolation("PATCH answered without Upload-Offset")
        }
        return (newOffset, response.headers.first(name: TusHeader.uploadExpires).flatMap(HTTPDate.parse))
    }
}
