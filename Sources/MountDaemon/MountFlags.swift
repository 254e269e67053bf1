import Logging

/// The settings given as `tusfs mount` flags, as typed: nil (or empty, false) where no flag was given.
/// `MountSettings` merges them with the `TUSFS_…` variables and the config file.
public struct MountFlags: Sendable {
    public var endpoint: String?
    public var apiKey: String?
    public var apiKeyFile: String?
    public var siteId: String?
    public var caFile: String?
    public var tus: String?
    public var remoteFolder: String?
    public var transfers: Int?
    /// `--max-requests`: the most requests in flight at once.
    public var maxRequests: Int?
    /// `--max-chunk-size SIZE`: the largest tus PATCH, as typed.
    public var maxChunkSize: String?
    public var writeBack: Double?
    /// `--retry-max-delay`: the longest wait, in seconds, between automatic retries of a failed upload.
    public var retryMaxDelay: Double?
    public var cache: String?
    public var threads: UInt32?
    public var noPassthrough: Bool
    public var logLevel: String?
    public var logFormat: LogFormat?
    public var metricsListen: String?
    /// `--webhook-listen HOST:PORT` and `--webhook-secret-file F`: the service's webhooks, and their key.
    public var webhookListen: String?
    public var webhookSecretFile: String?
    /// `--cache-max-size SIZE`, `--cache-min-free SIZE|N%` and `--cache-full-wait SECONDS`, as typed.
    public var cacheMaxSize: String?
    public var cacheMinFree: String?
    public var cacheFullWait: Double?
    /// `-o` values, each possibly comma-separated.
    public var options: [String]

    /// Flags as given; every one may be left out.
    public init(
        endpoint: String? = nil, apiKey: String? = nil, apiKeyFile: String? = nil, siteId: String? = nil,
        caFile: String? = nil, tus: String? = nil, remoteFolder: String? = nil, transfers: Int? = nil, maxRequests: Int? = nil,
        maxChunkSize: String? = nil,
        writeBack: Double? = nil, retryMaxDelay: Double? = nil, cache: String? = nil, threads: UInt32? = nil, noPassthrough: Bool = false,
        logLevel: String? = nil, logFormat: LogFormat? = nil, metricsListen: String? = nil, options: [String] = [],
        cacheMaxSize: String? = nil, cacheMinFree: String? = nil, cacheFullWait: Double? = nil,
        webhookListen: String? = nil, webhookSecretFile: String? = nil
    ) {
        self.webhookListen = webhookListen
        self.webhookSecretFile = webhookSecretFile
        self.cacheMaxSize = cacheMaxSize
        self.cacheMinFree = cacheMinFree
        self.cacheFullWait = cacheFullWait
        self.endpoint = endpoint
        self.apiKey = apiKey
        self.apiKeyFile = apiKeyFile
        self.siteId = siteId
        self.caFile = caFile
        self.tus = tus
        self.remoteFolder = remoteFolder
        self.transfers = transfers
        self.maxRequests = maxRequests
        self.maxChunkSize = maxChunkSize
        self.writeBack = writeBack
        self.retryMaxDelay = retryMaxDelay
        self.cache = cache
        self.threads = threads
        self.noPassthrough = noPassthrough
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.metricsListen = metricsListen
        self.options = options
    }
}
