import Timekeeping

/// Tuning of the upload engine (`tusfs mount --transfers N --write-back SECONDS`).
public struct UploadEngineConfiguration: Sendable {
    /// Quiet time after the last close before the upload starts. Default 1 s.
    public var writeBackDelay: Duration
    /// Uploads that move bytes at the same time. Default 4.
    public var parallelTransfers: Int
    /// The most uploads of small files (under ``smallFileSize``) running at once: each is a request or two,
    /// so over a slow link many must be in flight to keep it busy. The engine adapts how many it runs
    /// (``RequestWindow``): more while the service answers, fewer when it throttles (429) or falters (503,
    /// timeouts). Default 128.
    public var maxRequests: Int
    /// Uploads under this size are small-file requests (bounded by ``maxRequests``); larger ones move bytes
    /// for long and are bounded by ``parallelTransfers``. Default 10 MiB (where the Media Manager target
    /// switches from one PUT to a tus upload).
    public var smallFileSize: Int64
    /// Backoff of failed uploads (retried for as long as it takes by default; `tusfs mount --retry-max-delay`
    /// sets its cap).
    public var retryPolicy: RetryPolicy
    /// Backoff between processing polls while the service says PENDING.
    public var processingPollPolicy: RetryPolicy
    /// Backoff of remote deletes, renames and terminations; retried for as long as they may pass, given up
    /// (logged) only when the service refuses them.
    public var remoteOperationPolicy: RetryPolicy
    /// Uploads the target names only at finalize (``UploadTarget/namedAtFinalizeFromSize``) start sending when
    /// the file is closed, and only their finalize waits for the write-back delay. Default true.
    public var startsUploadsAtClose: Bool

    public init(
        writeBackDelay: Duration = .seconds(1),
        parallelTransfers: Int = 4,
        maxRequests: Int = 128,
        smallFileSize: Int64 = 10 * 1024 * 1024,
        retryPolicy: RetryPolicy = RetryPolicy(),
        processingPollPolicy: RetryPolicy = .processingPolls,
        remoteOperationPolicy: RetryPolicy = RetryPolicy(base: .seconds(1), cap: .seconds(60)),
        startsUploadsAtClose: Bool = true
    ) {
        self.writeBackDelay = writeBackDelay
        self.parallelTransfers = max(1, parallelTransfers)
        self.maxRequests = max(1, maxRequests)
        self.smallFileSize = smallFileSize
        self.retryPolicy = retryPolicy
        self.processingPollPolicy = processingPollPolicy
        self.remoteOperationPolicy = remoteOperationPolicy
        self.startsUploadsAtClose = startsUploadsAtClose
    }
}
