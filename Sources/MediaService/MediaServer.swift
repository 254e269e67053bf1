import BackgroundServices
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdTLS
import Logging
import MediaManagerAPI
import NIOCore
import ServiceLifecycle
import Synchronization
import TusServer

/// The stand-in Media Manager service with its tus server: what `tusfs serve` runs, and what the mount embeds.
///
/// ```swift
/// let server = try MediaServer(configuration: .init(port: 0, dataDirectory: dir))
/// let running = try await server.start()       // in-process, e.g. in tests
/// print(running.baseURL)                        // http://127.0.0.1:PORT
/// await running.stop()
/// ```
/// or `try await server.run(onListening: …)` to run until the task is cancelled, or `runUntilSignal` for
/// SIGINT/SIGTERM handling.
public struct MediaServer: Sendable {
    public let configuration: MediaServiceConfiguration
    let service: MediaService
    let logger: Logger

    /// Opens the data directory (creating it, its database and signing key on first use).
    public init(configuration: MediaServiceConfiguration, logger: Logger = Logger(label: "tusfs.serve")) throws {
        self.configuration = configuration
        self.logger = logger
        self.service = try MediaService(configuration: configuration, logger: logger)
    }

    /// Runs the service until the calling task is cancelled (or, with `handleSignals`, until SIGINT/SIGTERM).
    /// `onListening` gets the base URL once the listener is bound (with the real port when `port` was 0).
    public func run(handleSignals: Bool = false, onListening: @escaping @Sendable (URL) async -> Void = { _ in }) async throws {
        let app = try makeApplication(onListening: onListening)
        defer { service.stopBackgroundWork() }
        if handleSignals {
            try await app.runService()
        } else {
            try await app.run()
        }
    }

    /// Starts the service in a background task and returns once it listens.
    public func start() async throws -> RunningMediaService {
        let service = self.service
        do {
            let background = try await BackgroundService<URL>.start(logger: logger, whenStopped: { service.stopBackgroundWork() }) {
                try makeApplication(onListening: $0)
            }
            return RunningMediaService(background: background)
        } catch is BackgroundServiceError {
            throw HTTPServerError(.internalServerError, "the media service stopped before it listened")
        }
    }

    private func makeApplication(onListening: @escaping @Sendable (URL) async -> Void) throws -> some ApplicationProtocol {
        if configuration.faults.isActive || configuration.processingFailureRate > 0 || configuration.expireAfter != nil {
            logger.warning(
                "fault injection is ON: fail-rate \(configuration.faults.failureRate), drop-after-bytes \(configuration.faults.dropAfterBytes.map(String.init) ?? "off"), latency \(configuration.faults.latency.map { "\($0)" } ?? "off"), expire-after \(configuration.expireAfter.map { "\($0)" } ?? "off"), processing-failure-rate \(configuration.processingFailureRate)"
            )
        }
        if configuration.apiKey == nil {
            logger.notice("no API key configured: management calls are accepted without authorization")
        }
        let router = makeRouter()
        let service = self.service
        let host = configuration.host
        return Application(
            responder: ServiceResponder(
                router.buildResponder(), metrics: service.metrics, latency: configuration.faults.latency,
                rateLimit: configuration.rateLimit),
            server: try serverBuilder(),
            configuration: configuration.connectionLimits.applicationConfiguration(
                address: .hostname(host, port: configuration.port), logger: logger),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                service.listenerBound(host: host, port: port)
                try? await service.resumeBackgroundWork()
                await onListening(URL(string: service.baseURL)!)
            },
            logger: logger)
    }

    /// HTTP/1.1; under TLS, HTTP/2 or HTTP/1.1 as the client chooses by ALPN (HTTP/2: many requests as streams
    /// of one connection, no handshake per connection). Large socket reads (``LargeReadsChannel``: uploads
    /// arrive in fewer, bigger pieces) and the idle timeout of ``ConnectionLimits`` either way.
    private func serverBuilder() throws -> HTTPServerBuilder {
        let limits = configuration.connectionLimits
        guard let files = configuration.tls else { return .http1LargeReads(limits) }
        let tls = try Self.tlsConfiguration(files)
        var configured = HTTP2UpgradeChannel.Configuration(
            idleTimeout: limits.idleTimeout, gracefulCloseTimeout: .seconds(30), streamConfiguration: limits.http1Configuration)
        configured.maxAgeTimeout = configuration.http2MaxConnectionAge
        let http2 = configured
        return HTTPServerBuilder { responder in
            LargeReadsChannel(try HTTP2UpgradeChannel(tlsConfiguration: tls, configuration: http2, responder: responder))
        }
    }

    /// The server side of TLS from PEM files, with a one-line error naming the file that is wrong.
    static func tlsConfiguration(_ files: MediaServiceConfiguration.TLSFiles) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain)
        } catch {
            throw MediaServiceError.invalidArgument("cannot read the TLS certificate \(files.certificateChain): \(error)")
        }
        guard !chain.isEmpty else { throw MediaServiceError.invalidArgument("no certificate in \(files.certificateChain)") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        } catch {
            throw MediaServiceError.invalidArgument("cannot read the TLS private key \(files.privateKey): \(error)")
        }
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }

    func makeRouter() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        router.middlewares.add(JSONErrorMiddleware(loggedPath: LoggedPath.redacted))
        let api = router.group(RouterPath(MediaManagerPath.apiPrefix))
        api.add(middleware: APIKeyMiddleware(apiKey: configuration.apiKey))
        FileRoutes(service: service).add(to: api)
        FolderRoutes(service: service).add(to: api)
        UploadRoutes(service: service).add(to: router)
        ContentRoutes(service: service).add(to: router)
        let metrics = service.metrics
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.prometheusText())))
        }
        router.get("healthz") { _, _ in Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n"))) }
        return router
    }
}

/// A media service running in-process (see ``MediaServer/start()``).
public final class RunningMediaService: Sendable {
    /// `http://HOST:PORT` of the listener.
    public var baseURL: URL { background.value }
    private let background: BackgroundService<URL>

    init(background: BackgroundService<URL>) {
        self.background = background
    }

    /// The port the service listens on.
    public var port: Int { baseURL.port ?? 0 }

    /// The Media Manager API base: `BASE/site-media/v1`.
    public var apiURL: URL { baseURL.appendingPathComponent("site-media/v1") }

    /// Stops the service gracefully (requests in flight finish) and waits until it has shut down.
    public func stop() async {
        await background.stop()
    }
}
