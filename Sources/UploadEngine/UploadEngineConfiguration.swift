/// Tuning of the upload engine (`tusfs mount --transfers N --write-back SECONDS`).
public struct UploadEngineConfiguration: Sendable {
    /// Quiet time after the last close before the upload starts. Default 1 s.
    public var writeBackDelay: Duration
    /// Uploads that move bytes at the same time. Default 4.
    public var parallelTransfers: Int
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
        retryPolicy: RetryPolicy = RetryPolicy(),
        processingPollPolicy: RetryPolicy = .processingPolls,
        remoteOperationPolicy: RetryPolicy = RetryPolicy(base: .seconds(1), cap: .seconds(60)),
        startsUploadsAtClose: Bool = true
    ) {
        self.writeBackDelay = writeBackDelay
        self.parallelTransfers = max(1, parallelTransfers)
        self.retryPolicy = retryPolicy
        self.processingPollPolicy = processingPollPolicy
        self.remoteOperationPolicy = remoteOperationPolicy
        self.startsUploadsAtClose = startsUploadsAtClose
    }
}
