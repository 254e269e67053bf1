import Foundation

/// One file's upload state: one row of the journal, keyed by the mount-relative path (`videos/2024/a.mp4`).
///
/// The same fields are shown by the status xattrs, the `NAME.tusfs.json` sidecar and `status.json`.
public struct UploadRecord: Codable, Sendable, Hashable {
    /// Path relative to the mount root, without a leading slash.
    public var path: String
    public var state: UploadState
    /// Size of the cached file when it was last closed.
    public var size: Int64
    /// Bytes the server has acknowledged for the current upload.
    public var uploadedBytes: Int64
    /// The service's id of the file, once it exists there.
    public var remoteId: String?
    /// The service's URL of the file, once READY.
    public var url: String?
    /// Why the last attempt failed (server message included), while `failed` or retrying.
    public var error: String?
    /// Failed attempts since the last successful step or the last manual retry.
    public var attempts: Int
    /// When the record last changed; shown as RFC 3339 (`updatedAtRFC3339`).
    public var updatedAt: Date
    /// Bumped on every local write, so results of a superseded upload are recognised and ignored.
    public var generation: Int64
    /// How to continue the current upload after an interruption or a crash.
    public var resume: ResumeData?
    /// When the next automatic retry is due (`failed` and retryable only).
    public var nextAttemptAt: Date?
    /// When the file was last closed after a write; the write-back delay counts from here.
    public var lastCloseAt: Date?
    /// How often the service answered PENDING while `processing` (drives the poll backoff).
    public var processingPolls: Int

    public init(
        path: String, state: UploadState = .local, size: Int64 = 0, uploadedBytes: Int64 = 0,
        remoteId: String? = nil, url: String? = nil, error: String? = nil, attempts: Int = 0,
        updatedAt: Date = Date(), generation: Int64 = 0, resume: ResumeData? = nil,
        nextAttemptAt: Date? = nil, lastCloseAt: Date? = nil, processingPolls: Int = 0
    ) {
        self.path = path
        self.state = state
        self.size = size
        self.uploadedBytes = uploadedBytes
        self.remoteId = remoteId
        self.url = url
        self.error = error
        self.attempts = attempts
        self.updatedAt = updatedAt
        self.generation = generation
        self.resume = resume
        self.nextAttemptAt = nextAttemptAt
        self.lastCloseAt = lastCloseAt
        self.processingPolls = processingPolls
    }

    /// `updatedAt` as RFC 3339 (`2026-11-21T06:40:00Z`), the form of `user.tusfs.updated`.
    public var updatedAtRFC3339: String { StatusJSONWriter.rfc3339(updatedAt) }

    /// Failed with no automatic retry scheduled (``UploadState/isFailedForGood(retryScheduled:)``).
    public var isFailedForGood: Bool { state.isFailedForGood(retryScheduled: nextAttemptAt != nil) }

    /// Whether the file has settled (``UploadState/isSettled(retryScheduled:)``): `ready`, or failed for good.
    /// The engine keeps such records in the journal only.
    public var isSettled: Bool { state.isSettled(retryScheduled: nextAttemptAt != nil) }

    /// Whether the mount still has something to send for this file (``UploadState/hasWorkLeft(retryScheduled:)``).
    public var hasWorkLeft: Bool { state.hasWorkLeft(retryScheduled: nextAttemptAt != nil) }

    /// `UPLOADED/SIZE`, the form of `user.tusfs.progress`.
    public var progressText: String { "\(uploadedBytes)/\(size)" }
}
