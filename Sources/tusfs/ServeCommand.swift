import ArgumentParser
import Foundation
import Logging
import MediaService
import MountDaemon
import TusServer

/// `tusfs serve`: runs the stand-in Media Manager service with its tus server (see docs/SERVER.md).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the stand-in Media Manager service and tus server.",
        discussion: "Prints `listening on http://HOST:PORT` on stdout once ready; SIGINT or SIGTERM stop it.")

    @Option(help: "HOST:PORT to listen on; port 0 picks a free port.") var listen = "127.0.0.1:8080"
    @Option(help: "Directory for descriptors, content and unfinished uploads.") var data: String?
    @Option(help: "API key management calls must send in Authorization (default: TUSFS_API_KEY, else none: all calls accepted). Visible in ps: prefer --api-key-file.")
    var apiKey: String?
    @Option(help: "File holding the API key (first line; default: TUSFS_API_KEY_FILE).") var apiKeyFile: String?
    @Option(help: "URL that File Ready / File Failed webhooks are POSTed to.") var webhook: String?
    @Option(help: "HMAC-SHA256 key of the webhook signature (default: TUSFS_WEBHOOK_SECRET, else a random key kept in DATA/webhook-secret). Visible in ps: prefer --webhook-secret-file.")
    var webhookSecret: String?
    @Option(help: "File holding the webhook signature key (first line).") var webhookSecretFile: String?
    @Option(help: "Seconds between an upload and its READY/FAILED status.") var processingDelay: Double = 0.2
    @Option(help: "Base URL clients reach this server at (default: http://HOST:PORT).") var publicUrl: String?
    @Option(help: "Largest upload accepted, in bytes.") var maxUploadSize: Int64 = 64 << 30
    @Option(help: "Largest file /files/import fetches, in bytes.") var importMaxSize: Int64 = 1 << 30
    @Flag(help: "Let /files/import fetch from loopback, private, link-local and other non-public addresses (labs only).")
    var importAllowPrivate = false
    @Option(help: "Seconds a connection may wait for the rest of a request (or the next one) before it is closed.")
    var idleTimeout: Double = 30
    @Option(help: "Most connections open at once; more wait to be accepted.") var maxConnections = ConnectionLimits.defaultMaxConnections
    @Option(help: "Fault injection: probability (0-1) of a 503 on an upload PUT/PATCH.") var failRate: Double = 0
    @Option(help: "Fault injection: cut an upload PUT/PATCH connection after N body bytes (kept).") var dropAfterBytes: Int64?
    @Option(help: "Fault injection: delay every request by N milliseconds.") var latencyMs: Int = 0
    @Option(help: "Throttling: answer at most N requests per second, 429 with Retry-After past that.") var rateLimit: Int?
    @Option(help: "Fault injection: upload URLs and unfinished tus uploads expire after S seconds.") var expireAfter: Double?
    @Option(help: "Fault injection: probability (0-1) that processing marks a file FAILED.") var processingFailureRate: Double = 0
    @Option(help: ArgumentHelp("PEM certificate chain: serve https (with --tls-key).", valueName: "file")) var tlsCert: String?
    @Option(help: ArgumentHelp("PEM private key of --tls-cert.", valueName: "file")) var tlsKey: String?
    @Option(help: ArgumentHelp(
        "With --tls-cert: close each HTTP/2 connection gracefully (GOAWAY) after this long; clients go on with a new one.",
        valueName: "seconds"))
    var http2MaxConnectionAge: Double?
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"
    @Option(help: "Log lines as text (default) or json (one object per line).") var logFormat: LogFormat = .text

    func run() async throws {
        let configuration = try makeConfiguration()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        logFormat.bootstrap(level: level)
        let server = try MediaServer(configuration: configuration)
        try await server.run(handleSignals: true) { url in
            FileHandle.standardOutput.write(Data("listening on \(url.absoluteString)\n".utf8))
        }
    }

    private func makeConfiguration() throws -> MediaServiceConfiguration {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port), colon != listen.startIndex
        else { throw ServeError("--listen must be HOST:PORT, got \"\(listen)\"") }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ServeError("--log-level \"\(logLevel)\" is not a log level") }

        // The same rules as the mount's key file: refused when group or others may read it.
        let key = try ServeSecrets.resolve(.init(
            flag: "--api-key", value: apiKey, fileFlag: "--api-key-file", file: apiKeyFile, variable: "TUSFS_API_KEY",
            fileVariable: "TUSFS_API_KEY_FILE"))
        let webhookKey = try ServeSecrets.resolve(.init(
            flag: "--webhook-secret", value: webhookSecret, fileFlag: "--webhook-secret-file", file: webhookSecretFile,
            variable: "TUSFS_WEBHOOK_SECRET"))
        guard idleTimeout > 0, idleTimeout.isFinite else { throw ServeError("--idle-timeout must be > 0") }
        guard maxConnections >= 1 else { throw ServeError("--max-connections must be at least 1") }
        let webhookURL = try webhook.map { text -> URL in
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw ServeError("--webhook must be an http or https URL, got \"\(text)\"")
            }
            return url
        }
        let publicURL = try publicUrl.map { text -> URL in
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw ServeError("--public-url must be an http or https URL, got \"\(text)\"")
            }
            return url
        }
        guard processingDelay >= 0, processingDelay.isFinite else { throw ServeError("--processing-delay must be >= 0") }
        guard (0...1).contains(failRate) else { throw ServeError("--fail-rate must be between 0 and 1") }
        guard (0...1).contains(processingFailureRate) else { throw ServeError("--processing-failure-rate must be between 0 and 1") }
        if let d = dropAfterBytes, d < 1 { throw ServeError("--drop-after-bytes must be at least 1") }
        guard latencyMs >= 0 else { throw ServeError("--latency-ms must be >= 0") }
        if let r = rateLimit, r < 1 { throw ServeError("--rate-limit must be at least 1 request per second") }
        if let e = expireAfter, !(e > 0 && e.isFinite) { throw ServeError("--expire-after must be > 0") }
        guard maxUploadSize > 0, importMaxSize > 0 else { throw ServeError("size limits must be positive") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ServeError("give --tls-cert and --tls-key together") }
        if let age = http2MaxConnectionAge {
            guard age > 0, age.isFinite else { throw ServeError("--http2-max-connection-age must be > 0") }
            guard tlsCert != nil else { throw ServeError("--http2-max-connection-age needs --tls-cert and --tls-key (HTTP/2 is offered over TLS)") }
        }
        let tls = try tlsCert.map { cert -> MediaServiceConfiguration.TLSFiles in
            let files = MediaServiceConfiguration.TLSFiles(certificateChain: cert, privateKey: tlsKey!)
            for path in [cert, tlsKey!] where !FileManager.default.isReadableFile(atPath: path) {
                throw ServeError("cannot read \(path)")
            }
            return files
        }

        let dataDirectory = data.map { URL(fileURLWithPath: $0) } ?? Self.defaultDataDirectory()
        return MediaServiceConfiguration(
            host: host, port: port, dataDirectory: dataDirectory, apiKey: key, webhookURL: webhookURL,
            webhookSecret: webhookKey, processingDelay: .milliseconds(Int64(processingDelay * 1000)),
            processingFailureRate: processingFailureRate, publicURL: publicURL,
            faults: FaultInjection(
                failureRate: failRate, dropAfterBytes: dropAfterBytes, latency: latencyMs > 0 ? .milliseconds(latencyMs) : nil),
            expireAfter: expireAfter.map { .milliseconds(Int64($0 * 1000)) }, maxUploadSize: maxUploadSize,
            importMaxSize: importMaxSize, importAllowPrivate: importAllowPrivate,
            connectionLimits: ConnectionLimits(idleTimeout: .milliseconds(Int64(idleTimeout * 1000)), maxConnections: maxConnections),
            tls: tls, rateLimit: rateLimit,
            http2MaxConnectionAge: http2MaxConnectionAge.map { .milliseconds(Int64($0 * 1000)) })
    }

    /// `$XDG_DATA_HOME/tusfs/serve`, or `~/.local/share/tusfs/serve`.
    static func defaultDataDirectory() -> URL {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_DATA_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share")
        return base.appendingPathComponent("tusfs/serve")
    }
}

/// A bad `tusfs serve` option, reported as one line.
struct ServeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
