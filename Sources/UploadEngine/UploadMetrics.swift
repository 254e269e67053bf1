import Metrics

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
}
