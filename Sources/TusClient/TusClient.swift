import AsyncHTTPClient
import Crypto
import Foundation
import TusCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A tus 1.0.0 client on async-http-client.
///
/// Each step of an upload is its own call, so a caller with a journal can stop after any of them and carry on
/// later: ``create(at:length:metadata:)`` returns the upload URL to persist, ``resume(_:file:from:endpoint:progress:)``
/// sends the rest of a file from the server's offset, ``status(of:)`` asks for that offset (HEAD), and
/// ``terminate(_:)`` deletes an upload. ``upload(file:to:metadata:progress:onCreated:)`` does all of it in one go.
///
/// File data is streamed from the file in blocks (`pread`), never loaded whole. Failed requests are retried as
/// ``RetryPolicy`` says; every retry of a PATCH first asks the server for its offset, so no acknowledged byte
/// is sent twice. Cancel the calling task to stop an upload; the server keeps what it acknowledged.
///
/// The client holds no state about files; it only caches each endpoint's `OPTIONS` answer.
public final class TusClient: Sendable {
    /// Tunables of a ``TusClient``.
    public struct Configuration: Sendable {
        /// Bytes sent per PATCH request. See docs/CLIENT.md for how the default was chosen.
        public var chunkSize: Int64
        /// Bytes read from the file per `pread` while streaming a request body.
        public var readBlockSize: Int
        /// Uploads up to this size are sent in the creation request itself (creation-with-upload), when the
        /// server supports it. 0 disables it.
        public var creationWithUploadLimit: Int64
        /// When to retry failed requests.
        public var retryPolicy: RetryPolicy
        /// Sends PATCH and DELETE as POST with `X-HTTP-Method-Override`, for proxies that block those methods.
        public var useMethodOverride: Bool
        /// Adds `Upload-Checksum` to each PATCH when the server advertises the checksum extension (with the
        /// algorithm of ``TusServerCapabilities/checksumAlgorithm``).
        public var sendsChecksums: Bool
        /// Longest time one request (including its body) may take.
        public var requestTimeout: Duration
        /// Extra headers sent with every request (e.g. authentication for a plain tus server).
        public var additionalHeaders: HTTPHeaders
        /// How the client waits between retries (replaced in tests).
        public var sleep: @Sendable (Duration) async throws -> Void
        /// Random numbers in 0..<1 for backoff jitter (replaced in tests).
        public var random: @Sendable () -> Double

        public init(
            chunkSize: Int64 = TusClient.defaultChunkSize,
            readBlockSize: Int = 256 * 1024,
            creationWithUploadLimit: Int64 = 4 * 1024 * 1024,
            retryPolicy: RetryPolicy = .default,
            useMethodOverride: Bool = false,
            sendsChecksums: Bool = true,
            requestTimeout: Duration = .seconds(600),
            additionalHeaders: HTTPHeaders = [:],
            sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
            random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
        ) {
            self.chunkSize = max(1, chunkSize)
            self.readBlockSize = max(4096, readBlockSize)
            self.creationWithUploadLimit = max(0, creationWithUploadLimit)
            self.retryPolicy = retryPolicy
            self.useMethodOverride = useMethodOverride
            self.sendsChecksums = sendsChecksums
            self.requestTimeout = requestTimeout
            self.additionalHeaders = additionalHeaders
            self.sleep = sleep
            self.random = random
        }
    }

    /// The smallest PATCH the client shrinks to after connections are cut without progress.
    public static let minimumAdaptiveChunkSize: Int64 = 256 * 1024

    /// The PATCH size used when none is configured (measured on loopback; see docs/CLIENT.md).
    public static let defaultChunkSize: Int64 = 64 * 1024 * 1024

    /// The configuration this client was made with.
    public let configuration: Configuration
    let httpClient: HTTPClient
    let logger: Logger
    private let capabilityCache = Mutex<[String: TusServerCapabilities]>([:])

    /// - Parameters:
    ///   - httpClient: the HTTP client to send requests with; its owner shuts it down.
    ///   - configuration: chunk size, retries and the like.
    ///   - logger: where requests and retries are logged (at debug and notice level).
    public init(
        httpClient: HTTPClient = .shared, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "tusfs.tus-client")
    ) {
        self.httpClient = httpClient
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: - Discovery

    /// What the server at `endpoint` supports (`OPTIONS`), asked once per endpoint and then cached.
    ///
    /// A server that answers `OPTIONS` with an error that is not retried (some only implement the core
    /// protocol) is taken to support creation only.
    public func capabilities(of endpoint: URL) async throws -> TusServerCapabilities {
        let key = endpoint.absoluteString
        if let cached = capabilityCache.withLock({ $0[key] }) { return cached }
        var budget = RetryBudget(policy: configuration.retryPolicy)
        let capabilities: TusServerCapabilities
        do {
            capabilities = try await retrying(&budget, what: "OPTIONS \(key)") {
                let response = try await self.send(.OPTIONS, endpoint, body: nil, tusResumable: false)
                return TusServerCapabilities.parse { response.headers.first(name: $0) }
            }
        } catch let error as TusError where error.status != nil {
            logger.debug("OPTIONS not usable, assuming core + creation", metadata: ["status": "\(error.status!)"])
            capabilities = .assumed
        }
        capabilityCache.withLock { $0[key] = capabilities }
        return capabilities
    }

    // MARK: - Creation

    /// Creates an empty upload of `length` bytes (`POST`, creation extension) and returns it.
    ///
    /// Persist the returned ``TusUpload/url`` before sending data, so a crash can resume it.
    public func create(at endpoint: URL, length: Int64, metadata: [String: String] = [:]) async throws -> TusUpload {
        let capabilities = try await capabilities(of: endpoint)
        try check(length: length, against: capabilities)
        var headers = HTTPHeaders()
        headers.add(name: TusHeader.uploadLength, value: String(length))
        if !metadata.isEmpty { headers.add(name: TusHeader.uploadMetadata, value: try TusMetadataEncoding.encode(metadata)) }
        var budget = RetryBudget(policy: configuration.retryPolicy)
        return try await retrying(&budget, what: "POST \(endpoint.absoluteString)") {
            let response = try await self.send(.POST, endpoint, headers: headers, body: nil)
            return try self.createdUpload(response, endpoint: endpoint, length: length)
        }
    }

    /// Creates an upload for the file at `path`. A file up to ``Configuration/creationWithUploadLimit`` goes in
    /// the creation request itself when the server supports creation-with-upload (one round trip); the returned
    /// offset says how much the server took. Larger files are created empty; send them with
    /// ``resume(_:file:from:endpoint:progress:)``.
    public func create(
        at endpoint: URL, file path: String, metadata: [String: String] = [:], progress: TusProgressHandler? = nil
    ) async throws -> TusUpload {
        let file = try ReadOnlyFile(path: path)
        let length = try file.size()
        let capabilities = try await capabilities(of: endpoint)
        guard length > 0, length <= configuration.creationWithUploadLimit, capabilities.supports("creation-with-upload")
        else {
            let upload = try await create(at: endpoint, length: length, metadata: metadata)
            if upload.isComplete { progress?(TusProgress(acknowledged: length, total: length)) }
            return upload
        }
        try check(length: length, against: capabilities)
        var headers = HTTPHeaders()
        headers.add(name: TusHeader.uploadLength, value: String(length))
        if !metadata.isEmpty { headers.add(name: TusHeader.uploadMetadata, value: try TusMetadataEncoding.encode(metadata)) }
        headers.add(name: HTTPHeaderName.contentType, value: TusHeader.offsetOctetStream)
        if configuration.sendsChecksums, let algorithm = capabilities.checksumAlgorithm {
            headers.add(
                name: TusHeader.uploadChecksum,
                value: try file.checksum(algorithm, offset: 0, length: length, blockSize: configuration.readBlockSize))
        }
        var budget = RetryBudget(policy: configuration.retryPolicy)
        let upload = try await retrying(&budget, what: "POST \(endpoint.absoluteString) with data") {
            let body = HTTPClientRequest.Body.stream(
                FileRegionBody(file: file, offset: 0, length: length, blockSize: self.configuration.readBlockSize),
                length: .known(length))
            let response = try await self.send(.POST, endpoint, headers: headers, body: body)
            return try self.createdUpload(response, endpoint: endpoint, length: length)
        }
        if upload.offset > 0 { progress?(TusProgress(acknowledged: upload.offset, total: length)) }
        return upload
    }

    // MARK: - Status, resume, termination

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
    /// When a connection is cut and the server kept nothing of that request, later requests of this call are
    /// half as large (down to ``minimumAdaptiveChunkSize``).
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
        var chunkSize = configuration.chunkSize
        var cutAt: Int64?  // offset of a PATCH whose connection broke, until the server is asked
        // The SHA-1 of the next chunk, computed while the current one is sent, so only the first chunk waits.
        var nextDigest: PendingDigest?
        defer { nextDigest?.task.cancel() }

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
                    if let cut = cutAt, status.offset <= cut, chunkSize > Self.minimumAdaptiveChunkSize {
                        chunkSize = max(Self.minimumAdaptiveChunkSize, chunkSize / 2)
                        logger.notice("connection cut without progress, halving the chunk size", metadata: ["chunk_size": "\(chunkSize)"])
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

                let count = min(chunkSize, length - current.offset)
                var checksum: String?
                if let checksumAlgorithm {
                    let pending: PendingDigest
                    if let next = nextDigest, next.covers(offset: current.offset, count: count) {
                        pending = next
                    } else {
                        nextDigest?.task.cancel()
                        pending = PendingDigest(
                            checksumAlgorithm, file: file, offset: current.offset, count: count,
                            blockSize: configuration.readBlockSize)
                    }
                    nextDigest = nil
                    checksum = try await pending.task.value
                    let nextOffset = current.offset + count
                    if nextOffset < length {
                        nextDigest = PendingDigest(
                            checksumAlgorithm, file: file, offset: nextOffset, count: min(chunkSize, length - nextOffset),
                            blockSize: configuration.readBlockSize)
                    }
                }
                let answer = try await patch(uploadURL, file: file, offset: current.offset, count: count, checksum: checksum)
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

    private func createdUpload(_ response: HTTPResponse, endpoint: URL, length: Int64) throws -> TusUpload {
        guard let location = response.headers.first(name: TusHeader.location),
            let url = URL(string: location, relativeTo: endpoint)?.absoluteURL
        else {
            throw TusError.protocolViolation("creation answered \(response.status) without a usable Location")
        }
        let offset = response.headers.first(name: TusHeader.uploadOffset).flatMap { Int64($0) } ?? 0
        return TusUpload(
            url: url, offset: offset, length: length,
            expires: response.headers.first(name: TusHeader.uploadExpires).flatMap(HTTPDate.parse))
    }

    private func check(length: Int64, against capabilities: TusServerCapabilities) throws {
        if let maxSize = capabilities.maxSize, maxSize > 0, length > maxSize {
            throw TusError.tooLarge(size: length, maxSize: maxSize)
        }
    }
}

/// The `Upload-Checksum` value (`<algorithm> <base64>`) of one chunk of a file, computed in the background for a
/// coming PATCH.
struct PendingDigest: Sendable {
    let offset: Int64
    let count: Int64
    let task: Task<String, any Error>

    /// Starts hashing `count` bytes of `file` at `offset` with `algorithm` on a background task.
    init(_ algorithm: ChecksumAlgorithm, file: ReadOnlyFile, offset: Int64, count: Int64, blockSize: Int) {
        self.offset = offset
        self.count = count
        task = Task.detached {
            try file.checksum(algorithm, offset: offset, length: count, blockSize: blockSize)
        }
    }

    /// Whether this is the digest of exactly the chunk `offset ..< offset + count`.
    func covers(offset: Int64, count: Int64) -> Bool { self.offset == offset && self.count == count }
}
