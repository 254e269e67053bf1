import Foundation
import Logging
import MediaManagerClient
import MirrorFilesystem

/// Every setting of a mount, resolved once: a flag wins over its environment variable (`TUSFS_…`), which
/// wins over the config file (`[mount]` in tusfs.toml), which wins over the default. The background launcher
/// hands the resolved values to the daemon as flags (the API key in its environment).
public struct MountSettings: Sendable {
    /// Where files go: at most one of `endpoint` and `tus`; neither means the embedded stand-in service.
    public var endpoint: String?
    public var tus: String?
    public var credentials: MediaManagerCredentials
    public var remoteFolder: String?
    public var transfers: Int
    /// The most requests in flight at once (upload URLs, small-file PUTs, finalizes, status polls); the mount
    /// adapts how many it really sends to the service's answers, up to this. Default 128.
    public var maxRequests: Int
    /// The largest tus PATCH in bytes; PATCHes start at 64 MiB and grow to it while the link is fast. A crash
    /// or a cut connection sends again at most the PATCH in flight. Default 1 GiB.
    public var maxChunkSize: Int64
    public var writeBack: Double
    /// The longest wait, in seconds, between automatic retries of an upload that failed in a way that may
    /// pass (uploads are retried for as long as it takes). Default 300.
    public var retryMaxDelay: Double
    public var cache: String?
    public var threads: UInt32
    public var passthrough: Bool
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    public var options: [String]
    /// PEM certificates to trust besides the system's.
    public var caFile: String?
    /// `HOST:PORT` of the Prometheus endpoint, if any.
    public var metricsListen: String?
    /// `HOST:PORT` where the service's File Ready / File Failed webhooks are taken, if anywhere, and the key
    /// that signs them (never an argument of the daemon: it goes in its environment, as the API key does).
    public var webhookListen: String?
    public var webhookSecret: String?
    /// How much of the disk the cache may take (`--cache-max-size`, `--cache-min-free`, `--cache-full-wait`).
    public var cacheLimits: CacheLimits
    /// The config file read, if any.
    public var configPath: String?

    /// The environment variables read, by setting.
    public enum Variable {
        public static let endpoint = "TUSFS_ENDPOINT"
        public static let apiKey = "TUSFS_API_KEY"
        public static let apiKeyFile = "TUSFS_API_KEY_FILE"
        public static let siteId = "TUSFS_SITE_ID"
        public static let tus = "TUSFS_TUS"
        public static let remoteFolder = "TUSFS_REMOTE_FOLDER"
        public static let transfers = "TUSFS_TRANSFERS"
        public static let maxRequests = "TUSFS_MAX_REQUESTS"
        public static let maxChunkSize = "TUSFS_MAX_CHUNK_SIZE"
        public static let writeBack = "TUSFS_WRITE_BACK"
        public static let retryMaxDelay = "TUSFS_RETRY_MAX_DELAY"
        public static let cache = "TUSFS_CACHE"
        public static let threads = "TUSFS_THREADS"
        public static let passthrough = "TUSFS_PASSTHROUGH"
        public static let logLevel = "TUSFS_LOG_LEVEL"
        public static let logFormat = "TUSFS_LOG_FORMAT"
        public static let options = "TUSFS_OPTIONS"
        public static let metricsListen = "TUSFS_METRICS_LISTEN"
        public static let webhookListen = "TUSFS_WEBHOOK_LISTEN"
        public static let webhookSecret = "TUSFS_WEBHOOK_SECRET"
        public static let webhookSecretFile = "TUSFS_WEBHOOK_SECRET_FILE"
        public static let caFile = "TUSFS_CA_FILE"
        public static let cacheMaxSize = "TUSFS_CACHE_MAX_SIZE"
        public static let cacheMinFree = "TUSFS_CACHE_MIN_FREE"
        public static let cacheFullWait = "TUSFS_CACHE_FULL_WAIT"
    }

    /// Merges `flags` with `environment` (`TUSFS_…`) and `file`; throws a one-line error for a value out of
    /// range or malformed, naming where it came from.
    public init(flags: MountFlags, environment: [String: String], file: ConfigurationFile) throws {
        let env = environment.filter { !$0.value.isEmpty }
        let config = file.mount
        let fileName = file.path.map { "config file \($0)" } ?? "config file"
        configPath = file.path

        // The destination is one setting: the first source that names one decides.
        let destinations: [(endpoint: String?, tus: String?, source: String)] = [
            (flags.endpoint, flags.tus, "--endpoint and --tus"),
            (env[Variable.endpoint], env[Variable.tus], "\(Variable.endpoint) and \(Variable.tus)"),
            (config.endpoint, config.tus, "endpoint and tus in the \(fileName)"),
        ]
        if let chosen = destinations.first(where: { $0.endpoint != nil || $0.tus != nil }) {
            guard chosen.endpoint == nil || chosen.tus == nil else { throw MountError("give \(chosen.source) not both") }
            endpoint = chosen.endpoint
            tus = chosen.tus
        }

        var key = flags.apiKey
        if key == nil, let path = flags.apiKeyFile { key = try APIKeyFile.read(path, source: "--api-key-file") }
        if key == nil { key = env[Variable.apiKey] }
        if key == nil, let path = env[Variable.apiKeyFile] { key = try APIKeyFile.read(path, source: Variable.apiKeyFile) }
        if key == nil, let path = config.api_key_file { key = try APIKeyFile.read(path, source: "api_key_file of the \(fileName)") }
        credentials = MediaManagerCredentials(apiKey: key, siteID: flags.siteId ?? env[Variable.siteId] ?? config.site_id)
        remoteFolder = flags.remoteFolder ?? env[Variable.remoteFolder] ?? config.remote_folder
        cache = flags.cache ?? env[Variable.cache] ?? config.cache

        transfers = try Self.pick(flags.transfers, env[Variable.transfers], config.transfers, default: 4, name: "transfers")
        guard (1...64).contains(transfers) else { throw MountError("transfers must be between 1 and 64, got \(transfers)") }
        maxRequests = try Self.pick(
            flags.maxRequests, env[Variable.maxRequests], config.max_requests, default: Self.defaultMaxRequests, name: "max-requests")
        guard (1...1024).contains(maxRequests) else { throw MountError("max-requests must be between 1 and 1024, got \(maxRequests)") }
        writeBack = try Self.pick(flags.writeBack, env[Variable.writeBack], config.write_back?.value, default: 1, name: "write-back")
        guard writeBack >= 0, writeBack <= 86_400, writeBack.isFinite else {
            throw MountError("write-back must be between 0 and 86400 seconds, got \(writeBack)")
        }
        retryMaxDelay = try Self.pick(
            flags.retryMaxDelay, env[Variable.retryMaxDelay], config.retry_max_delay?.value, default: 300, name: "retry-max-delay")
        guard retryMaxDelay >= 0.01, retryMaxDelay <= 86_400, retryMaxDelay.isFinite else {
            throw MountError("retry-max-delay must be between 0.01 and 86400 seconds, got \(retryMaxDelay)")
        }
        let threadCount = try Self.pick(flags.threads.map(Int.init), env[Variable.threads], config.threads, default: 8, name: "threads")
        guard (1...256).contains(threadCount) else { throw MountError("threads must be between 1 and 256, got \(threadCount)") }
        threads = UInt32(threadCount)

        if flags.noPassthrough {
            passthrough = false
        } else if let text = env[Variable.passthrough] {
            guard let value = Self.boolean(text) else { throw MountError("\(Variable.passthrough) must be true or false, got \(text)") }
            passthrough = value
        } else {
            passthrough = config.passthrough ?? true
        }

        let levelText = flags.logLevel ?? env[Variable.logLevel] ?? config.log_level ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else {
            throw MountError("log level \"\(levelText)\" is not one of trace, debug, info, notice, warning, error")
        }
        logLevel = level
        let formatText = flags.logFormat?.rawValue ?? env[Variable.logFormat] ?? config.log_format ?? "text"
        guard let format = LogFormat(rawValue: formatText) else {
            throw MountError("log format \"\(formatText)\" is not one of text, json")
        }
        logFormat = format
        caFile = flags.caFile ?? env[Variable.caFile] ?? config.ca_file
        metricsListen = flags.metricsListen ?? env[Variable.metricsListen] ?? config.metrics_listen
        if let metricsListen { _ = try MetricsEndpoint.address(metricsListen, option: "metrics-listen") }
        webhookListen = flags.webhookListen ?? env[Variable.webhookListen] ?? config.webhook_listen
        var secret: String?
        if let path = flags.webhookSecretFile { secret = try APIKeyFile.read(path, source: "--webhook-secret-file") }
        if secret == nil { secret = env[Variable.webhookSecret] }
        if secret == nil, let path = env[Variable.webhookSecretFile] { secret = try APIKeyFile.read(path, source: Variable.webhookSecretFile) }
        if secret == nil, let path = config.webhook_secret_file {
            secret = try APIKeyFile.read(path, source: "webhook_secret_file of the \(fileName)")
        }
        webhookSecret = secret
        if let webhookListen {
            guard tus == nil else { throw MountError("webhook-listen is for a Media Manager service: a plain tus server (--tus) sends no webhooks") }
            _ = try MetricsEndpoint.address(webhookListen, option: "webhook-listen")
            guard secret != nil else {
                throw MountError(
                    "webhook-listen needs the key the service signs its webhooks with: --webhook-secret-file, \(Variable.webhookSecret) or webhook_secret_file")
            }
        }
        cacheLimits = try Self.cacheLimits(flags: flags, env: env, config: config, fileName: fileName)
        maxChunkSize = try Self.maxChunkSize(flags: flags, env: env, config: config, fileName: fileName)
        if !flags.options.isEmpty {
            options = flags.options
        } else if let text = env[Variable.options] {
            options = [text]
        } else {
            options = config.options ?? []
        }
    }

    private static func cacheLimits(
        flags: MountFlags, env: [String: String], config: ConfigurationFile.Mount, fileName: String
    ) throws -> CacheLimits {
        var limits = CacheLimits()
        if let (text, source) = firstGiven(
            (flags.cacheMaxSize, "--cache-max-size"), (env[Variable.cacheMaxSize], Variable.cacheMaxSize),
            (config.cache_max_size?.value, "cache_max_size in the \(fileName)"))
        {
            guard let size = CacheLimits.size(text) else {
                throw MountError("\(source) must be a size such as 512M, 64G or 1T, got \(text)")
            }
            limits.maxSize = size == 0 ? nil : size
        }
        if let (text, source) = firstGiven(
            (flags.cacheMinFree, "--cache-min-free"), (env[Variable.cacheMinFree], Variable.cacheMinFree),
            (config.cache_min_free?.value, "cache_min_free in the \(fileName)"))
        {
            guard let free = CacheLimits.freeSpace(text) else {
                throw MountError("\(source) must be a size such as 10G or a percentage from 0% to 90%, got \(text)")
            }
            limits.minFree = free
        }
        limits.fullWait = try pick(
            flags.cacheFullWait, env[Variable.cacheFullWait], config.cache_full_wait?.value, default: limits.fullWait,
            name: "cache-full-wait")
        guard limits.fullWait >= 0, limits.fullWait <= 86_400, limits.fullWait.isFinite else {
            throw MountError("cache-full-wait must be between 0 and 86400 seconds, got \(limits.fullWait)")
        }
        return limits
    }

    private static func maxChunkSize(
        flags: MountFlags, env: [String: String], config: ConfigurationFile.Mount, fileName: String
    ) throws -> Int64 {
        guard
            let (text, source) = firstGiven(
                (flags.maxChunkSize, "--max-chunk-size"), (env[Variable.maxChunkSize], Variable.maxChunkSize),
                (config.max_chunk_size?.value, "max_chunk_size in the \(fileName)"))
        else { return defaultMaxChunkSize }
        guard let size = CacheLimits.size(text), size >= minimumMaxChunkSize, size <= 1 << 40 else {
            throw MountError("\(source) must be a size from 1M to 1T such as 64M or 1G, got \(text)")
        }
        return size
    }

    /// The first of a text setting's flag, variable and file values that was given, with where it came from
    /// (for the error message when it does not parse).
    private static func firstGiven(_ sources: (value: String?, source: String)...) -> (text: String, source: String)? {
        for (value, source) in sources { if let value { return (value, source) } }
        return nil
    }

    /// The largest PATCH by default: on a fast link a 1 GiB file goes in two or three PATCHes.
    public static let defaultMaxChunkSize: Int64 = 1 << 30
    /// The smallest `--max-chunk-size`.
    public static let minimumMaxChunkSize: Int64 = 1 << 20

    /// Enough requests in flight to keep a link of 150 ms round trip busy at several hundred files per second.
    public static let defaultMaxRequests = 128

    /// The flag's value, else the variable's (parsed), else the file's, else `fallback`.
    private static func pick<T: LosslessStringConvertible>(_ flag: T?, _ variable: String?, _ file: T?, default fallback: T, name: String)
        throws -> T
    {
        if let flag { return flag }
        if let variable {
            guard let value = T(variable) else {
                throw MountError("TUSFS_\(name.uppercased().replacingOccurrences(of: "-", with: "_")) is not a valid \(name): \(variable)")
            }
            return value
        }
        return file ?? fallback
    }

    private static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "true", "yes", "on": true
        case "0", "false", "no", "off": false
        default: nil
        }
    }
}
