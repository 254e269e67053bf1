import AsyncHTTPClient
import Foundation
import Logging
import NIOHTTP1
import Synchronization
import TusCore

/// A tus 1.0.0 client on async-http-client.
///
/// Each step of an upload is its own call, so a caller with a journal can stop after any of them and carry on
/// later: ``create(at:length:metadata:)`` returns the upload URL to persist, ``resume(_:file:from:endpoint:progress:)``
/// sends the rest of a file from the server's offset, ``status(of:)`` asks for that offset (HEAD), and
/// ``terminate(_:)`` deletes an upload. ``upload(file:to:metadata:progress:onCreated:)`` does all of it in one go.
///
/// File data is streamed from the file in blocks (`pread`), never loaded whole. Failed requests are retried as
/// ``RequestRetryPolicy`` says; every retry of a PATCH first asks the server for its offset, so no acknowledged byte
/// is sent twice. Cancel the calling task to stop an upload; the server keeps what it acknowledged.
///
/// The client holds no state about files; it only caches each server's `OPTIONS` answer.
public final class TusUploader: Sendable {
    /// Tunables of a ``TusUploader``.
    public struct Configuration: Sendable {
        /// Bytes sent per PATCH request (the first one, when PATCHes may grow). See docs/CLIENT.md for how the
        /// default was chosen.
        public var chunkSize: Int64
        /// The largest PATCH. Above ``chunkSize``, PATCHes grow while each takes less than ``chunkDuration``
        /// (fewer round trips on a distant service; a cut connection then costs at most the PATCH in flight when
        /// the server drops a checksummed partial body). Equal to ``chunkSize`` (the default): fixed PATCHes.
        public var maximumChunkSize: Int64
        /// How long a PATCH should last when PATCHes may grow (see ``maximumChunkSize``).
        public var chunkDuration: Duration
        /// Bytes read from the file per `pread` while streaming a request body.
        public var readBlockSize: Int
        /// Uploads up to this size are sent in the creation request itself (creation-with-upload), when the
        /// server supports it. 0 disables it.
        public var creationWithUploadLimit: Int64
        /// When to retry failed requests.
        public var retryPolicy: RequestRetryPolicy
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
            chunkSize: Int64 = TusUploader.defaultChunkSize,
            maximumChunkSize: Int64? = nil,
            chunkDuration: Duration = TusUploader.defaultChunkDuration,
            readBlockSize: Int = 256 * 1024,
            creationWithUploadLimit: Int64 = 4 * 1024 * 1024,
            retryPolicy: RequestRetryPolicy = .default,
            useMethodOverride: Bool = false,
            sendsChecksums: Bool = true,
            requestTimeout: Duration = .seconds(600),
            additionalHeaders: HTTPHeaders = [:],
            sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
            random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
        ) {
            self.chunkSize = max(1, chunkSize)
            self.maximumChunkSize = max(self.chunkSize, maximumChunkSize ?? chunkSize)
            self.chunkDuration = chunkDuration
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

    /// The largest PATCH of the mount and `tusfs upload` (PATCHes grow to it on a fast link).
    public static let defaultMaximumChunkSize: Int64 = 1 << 30

    /// How long a growing PATCH should last: long enough that its round trip is a few percent of it.
    public static let defaultChunkDuration: Duration = .seconds(2)

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

    /// What the server at `endpoint` supports (`OPTIONS`), asked once per server (``serverKey(_:)``) and then cached.
    ///
    /// A server that answers `OPTIONS` with an error that is not retried (some only implement the core
    /// protocol) is taken to support creation only.
    public func capabilities(of endpoint: URL) async throws -> TusServerCapabilities {
        if let cached = cachedCapabilities(of: endpoint) { return cached }
        let key = endpoint.absoluteString
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
        capabilityCache.withLock {
            if $0.count >= Self.cachedServers { $0.removeAll() }
            $0[Self.serverKey(endpoint)] = capabilities
        }
        return capabilities
    }

    /// The servers whose `OPTIONS` answers are kept (a client talks to one or two; the cache never grows past this).
    static let cachedServers = 64

    /// The cached `OPTIONS` answer of the server behind `endpoint`, if it was asked already.
    func cachedCapabilities(of endpoint: URL) -> TusServerCapabilities? {
        capabilityCache.withLock { $0[Self.serverKey(endpoint)] }
    }

    /// Which server an endpoint belongs to: its URL without the last path component and query. A Media Manager
    /// service hands out a new endpoint per upload (`/upload/tus/TICKET`), all of one tus server: one `OPTIONS`
    /// serves them all, and the cache does not grow with every upload.
    static func serverKey(_ endpoint: URL) -> String {
        var components = URLComponents(url: endpoint.deletingLastPathComponent(), resolvingAgainstBaseURL: true)
        components?.query = nil
        components?.fragment = nil
        return components?.string ?? endpoint.deletingLastPathComponent().absoluteString
    }
}
