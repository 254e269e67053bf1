import Foundation
import Metrics
import Timekeeping
import UploadStatus

/// The engine's counters, reported through swift-metrics (a no-op until the process bootstraps a metrics
/// backend; `tusfs mount --metrics-listen` exports them as Prometheus text).
struct UploadMetrics: Sendable {
    /// Bytes the service acknowledged.
    let bytesUploaded = Counter(label: "tusfs_upload_bytes_total")
    /// Uploads that ended READY.
    let uploadsReady = Counter(label: "tusfs_uploads_finished_total", dimensions: [("outcome", "ready")])
    /// Uploads that ended failed (retried later or not).
    let uploadsFailed = Counter(label: "tusfs_uploads_finished_total", dimensions: [("outcome", "failed")])
    /// Automatic retries scheduled.
    let retries = Counter(label: "tusfs_upload_retries_total")
    /// Failed upload, finalize or processing requests, and remote operations given up.
    let errors = Counter(label: "tusfs_upload_errors_total")
    /// Probes sent while the service was unreachable.
    let probes = Counter(label: "tusfs_service_probes_total")
    /// 429 answers (the service throttles the mount).
    let throttled = Counter(label: "tusfs_service_throttled_total")
    /// Small-file requests the mount lets run at once now (``RequestWindow``).
    let requestLimit = Gauge(label: "tusfs_request_limit")
    /// 1 while the service answers, 0 during an outage.
    let serviceReachable = Gauge(label: "tusfs_service_reachable")
    /// When the current outage began (Unix seconds), 0 while the service answers.
    let serviceUnreachableSince = Gauge(label: "tusfs_service_unreachable_since_seconds")

    /// Records whether the service answers.
    func recordService(_ status: ServiceStatus) {
        serviceReachable.record(status.reachable ? 1 : 0)
        let since = status.unreachable_since.flatMap { try? Date($0, strategy: .iso8601) }
        serviceUnreachableSince.record(since?.timeIntervalSince1970 ?? 0)
    }
}
