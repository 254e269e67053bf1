import Foundation
import TusServer

/// Settings of the stand-in Media Manager service (`tusfs serve`, or embedded by the mount).
public struct MediaServiceConfiguration: Sendable {
    /// The address to listen on; port 0 picks a free port (see ``RunningMediaService/port``).
    public var host: String
    public var port: Int
    /// Where descriptors (SQLite), content and unfinished uploads live. Created if missing.
    public var dataDirectory: URL
    /// The key management calls must send in `Authorization`; nil accepts every call (the embedded default).
    public var apiKey: String?
    /// Where File Ready / File Failed events are POSTed, or nil for none.
    public var webhookURL: URL?
    /// The HMAC-SHA256 key of the webhook signature header. Nil: a random key made once and kept in
    /// `DATA/webhook-secret` (mode 0600), never the API key (a receiver must not need the management key).
    public var webhookSecret: String?
    /// How long processing takes after an upload before the file is READY (or FAILED).
    public var processingDelay: Duration
    /// Probability (0…1) that processing of a file fails (fault injection).
    public var processingFailureRate: Double
    /// The base URL clients reach the service at (`http://HOST:PORT` of the listener when nil).
    public var publicURL: URL?
    /// Faults injected into upload PUT and PATCH requests.
    public var faults: FaultInjection
    /// How long upload URLs and unfinished tus uploads stay valid; nil for the defaults (24 hours).
    public var expireAfter: Duration?
    /// The largest upload accepted, in bytes (`Tus-Max-Size`).
    public var maxUploadSize: Int64
    /// The largest file `POST /files/import` fetches, in bytes.
    public var importMaxSize: Int64
    /// Whether `POST /files/import` may fetch from loopback, private, link-local and other non-public addresses
    /// (for labs). Off by default: see ``ImportTargetPolicy``.
    public var importAllowPrivate: Bool
    /// Addresses import may fetch from although they are not public (tests only).
    var importAllowedAddresses: Set<String> = []
    /// Idle timeout and the most connections open at once.
    public var connectionLimits: ConnectionLimits
    /// The site id written into descriptors.
    public var siteID: String
    /// Requests per second the service answers at most; past it, 429 with `Retry-After` (`--rate-limit`).
    /// `/healthz` and `/metrics` are not counted. nil: no limit.
    public var rateLimit: Int?
    /// Under TLS: each HTTP/2 connection is closed gracefully (GOAWAY: requests under way finish, new ones go
    /// to a new connection) after this long (`--http2-max-connection-age`). nil: kept while in use.
    public var http2MaxConnectionAge: Duration?
    /// PEM certificate chain and private key: with both, the service speaks https only (HTTP/2 or HTTP/1.1,
    /// as the client chooses by ALPN).
    public var tls: TLSFiles?

    /// The certificate and key files of an https listener.
    public struct TLSFiles: Sendable {
        public var certificateChain: String
        public var privateKey: String
        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    /// `http` or `https`.
    var scheme: String { tls == nil ? "http" : "https" }

    public init(
        host: String = "127.0.0.1", port: Int = 8080, dataDirectory: URL, apiKey: String? = nil, webhookURL: URL? = nil,
        webhookSecret: String? = nil, processingDelay: Duration = .milliseconds(200), processingFailureRate: Double = 0,
        publicURL: URL? = nil, faults: FaultInjection = .init(), expireAfter: Duration? = nil,
        maxUploadSize: Int64 = 64 << 30, importMaxSize: Int64 = 1 << 30, importAllowPrivate: Bool = false,
        connectionLimits: ConnectionLimits = .init(), siteID: String = "tusfs-local-site", tls: TLSFiles? = nil,
        rateLimit: Int? = nil, http2MaxConnectionAge: Duration? = nil
    ) {
        self.http2MaxConnectionAge = http2MaxConnectionAge
        self.tls = tls
        self.rateLimit = rateLimit
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.apiKey = apiKey
        self.webhookURL = webhookURL
        self.webhookSecret = webhookSecret
        self.processingDelay = processingDelay
        self.processingFailureRate = processingFailureRate
        self.publicURL = publicURL
        self.faults = faults
        self.expireAfter = expireAfter
        self.maxUploadSize = maxUploadSize
        self.importMaxSize = importMaxSize
        self.importAllowPrivate = importAllowPrivate
        self.connectionLimits = connectionLimits
        self.siteID = siteID
    }

    /// How long an upload URL stays valid.
    var uploadURLLifetime: Duration { expireAfter ?? .seconds(24 * 3600) }
}
