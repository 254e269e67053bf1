/// The rules every status reader shares: the engine, the status surface, `tusfs status` and `tusfs wait`
/// count files with these and nothing else, so the totals they show always agree.
extension UploadState {
    /// Failed with no automatic retry scheduled: the file stays failed until `setfattr -n user.tusfs.retry`
    /// or a new write. A failed file with a retry scheduled is still in progress.
    public func isFailedForGood(retryScheduled: Bool) -> Bool {
        self == .failed && !retryScheduled
    }

    /// Whether the file has reached the end `tusfs wait` waits for: `ready`, or failed for good.
    public func isSettled(retryScheduled: Bool) -> Bool {
        self == .ready || isFailedForGood(retryScheduled: retryScheduled)
    }

    /// Whether the mount still has something to send for the file: it is `pending`, `uploading`,
    /// `finalizing`, or failed with a retry scheduled. `processing` is the service's business and `local`
    /// files are still open; `tusfs unmount --wait` waits until no file has work left.
    public func hasWorkLeft(retryScheduled: Bool) -> Bool {
        switch self {
        case .pending, .uploading, .finalizing: true
        case .failed: retryScheduled
        case .local, .processing, .ready: false
        }
    }

    /// Whether the file's next step is a request to the service: it is `pending`, `uploading`, `finalizing`
    /// or `processing`. During an outage these files show the outage as their error.
    public var waitsForService: Bool {
        switch self {
        case .pending, .uploading, .finalizing, .processing: true
        case .local, .ready, .failed: false
        }
    }

    /// Whether the service has every byte of the file: it is `finalizing` or later.
    public var serviceHasAllBytes: Bool {
        switch self {
        case .finalizing, .processing, .ready: true
        case .local, .pending, .uploading, .failed: false
        }
    }

    /// The bytes of a file of `size` the service has, `uploaded` being the acknowledged offset.
    public func bytesUploaded(size: Int64, uploaded: Int64) -> Int64 {
        serviceHasAllBytes ? size : min(max(uploaded, 0), size)
    }

    /// The bytes of a file of `size` still to send (`bytes_pending`), `uploaded` being the acknowledged offset.
    public func bytesPending(size: Int64, uploaded: Int64) -> Int64 {
        serviceHasAllBytes ? 0 : max(size - uploaded, 0)
    }
}
