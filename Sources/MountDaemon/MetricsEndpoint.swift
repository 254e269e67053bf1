import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import UploadEngine
import UploadStatus

/// `tusfs mount --metrics-listen HOST:PORT`: the mount's metrics as Prometheus text at `GET /metrics`.
///
/// Counters and histograms come through swift-metrics (bytes uploaded, uploads finished by outcome, retries,
/// errors, FUSE operation latency); the gauges of uploads by state and bytes pending are read from the
/// engine at each scrape, the cache's (`tusfs_cache_*`) from the mirror's `CacheSpace`.
final class MetricsEndpoint: Sendable {
    private let listener: DaemonListener
    /// Where it listens (`http://HOST:PORT`).
    var url: URL { listener.url }

    private init(listener: DaemonListener) { self.listener = listener }

    /// Makes swift-metrics report to a Prometheus registry; call once, before the engine is created.
    static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100), .seconds(1),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }

    /// Parses `HOST:PORT` (`[::1]:9100` for IPv6), the value of `option` (`metrics-listen`, `webhook-listen`).
    static func address(_ text: String, option: String = "metrics-listen") throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex, let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw MountError("\(option) must be HOST:PORT, got \(text)") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    static func start(
        host: String, port: Int, registry: PrometheusCollectorRegistry, engine: UploadEngine, cache: CacheMetrics, logger: Logger
    ) async throws -> MetricsEndpoint
    {
        var gauges: [UploadState: Metrics.Gauge] = [:]
        for state in UploadState.allCases { gauges[state] = Metrics.Gauge(label: "tusfs_uploads", dimensions: [("state", state.rawValue)]) }
        let pending = Metrics.Gauge(label: "tusfs_upload_bytes_pending")
        let states = gauges
        let router = Router()
        router.get("metrics") { _, _ in
            // The mount's kept totals: one lookup per scrape, whatever the number of files.
            let totals = engine.currentSubtreeSummary(of: "")
            for (state, gauge) in states { gauge.record(totals.totals[state] ?? 0) }
            pending.record(totals.bytes - totals.bytes_uploaded)
            cache.record()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        let listener = try await DaemonListener.start(host: host, port: port, router: router, purpose: "metrics", logger: logger)
        return MetricsEndpoint(listener: listener)
    }

    func stop() async {
        await listener.stop()
    }
}
