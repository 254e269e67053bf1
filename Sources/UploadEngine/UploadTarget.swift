import UploadStatus
/// A file as the service stores it.
public struct RemoteFile: Sendable, Hashable {
    /// The service's id of the file.
    public var remoteId: String
    /// The file's URL, when the service already gives one.
    public var url: String?
    /// True when the service still processes the file and must be polled until READY or FAILED.
    public var needsProcessing: Bool

    public init(remoteId: String, url: String? = nil, needsProcessing: Bool = false) {
        self.remoteId = remoteId
        self.url = url
        self.needsProcessing = needsProcessing
    }
}

/// How an upload ended.
public enum UploadOutcome: Sendable, Hashable {
    /// All bytes are on the server; the service must be asked to finalize (Media Manager tus flow).
    case needsFinalize
    /// The service already has the file (plain PUT, or a plain tus server).
    case stored(RemoteFile)
}

/// The service's processing status of a file.
public enum ProcessingStatus: Sendable, Hashable {
    /// PENDING: ask again later.
    case pending
    /// READY, with the file's URL.
    case ready(url: String?)
    /// FAILED, with the service's reason.
    case failed(reason: String)
}

/// An error of the upload target, saying whether trying again can help.
public struct UploadTargetError: Error, Sendable, Hashable, CustomStringConvertible {
    /// True for network errors, timeouts, 5xx and 429; false for errors the same request will hit again.
    public var isRetryable: Bool
    /// The server's message, or a description of the local failure.
    public var message: String
    /// The HTTP status, when there was a response.
    public var status: Int?
    /// True when the failure says the service as a whole is away, not that it refused this request: no
    /// answer at all (connection refused or reset, timeout, name resolution), 502, 503 or 504 from the service
    /// or a gateway before it, or 429. Enough of these in a row make the engine hold all work and probe the
    /// service instead (see `ServiceHealth`).
    public var isOutage: Bool
    /// How long the service asked callers to wait (`Retry-After`), when it said.
    public var retryAfter: Duration?

    public init(retryable: Bool, message: String, status: Int? = nil, outage: Bool? = nil, retryAfter: Duration? = nil) {
        self.isRetryable = retryable
        self.message = message
        self.status = status
        self.isOutage = retryable && (outage ?? status.map(Self.isOutageStatus) ?? false)
        self.retryAfter = retryAfter
    }

    /// A failure that may pass when tried again. With status 429, 502, 503 or 504 it is an outage.
    public static func retryable(_ message: String, status: Int? = nil, retryAfter: Duration? = nil) -> Self {
        Self(retryable: true, message: message, status: status, retryAfter: retryAfter)
    }

    /// No answer from the service at all (connection refused or cut, timeout): retryable, and an outage.
    public static func unreachable(_ message: String) -> Self {
        Self(retryable: true, message: message, outage: true)
    }

    /// A failure that will not pass by itself.
    public static func permanent(_ message: String, status: Int? = nil) -> Self {
        Self(retryable: false, message: message, status: status)
    }

    /// The statuses that say the service is away or overloaded rather than that it refused a request:
    /// 429 (too many requests), 502 (bad gateway), 503 (unavailable), 504 (gateway timeout). A 500 is the
    /// service failing on one request while it answers others: the file is retried on its own clock.
    public static func isOutageStatus(_ status: Int) -> Bool {
        [429, 502, 503, 504].contains(status)
    }

    public var description: String {
        if let status { return "\(status): \(message)" }
        return message
    }
}

/// What the engine needs from a service: implemented by the Media Manager client (generate URL → PUT, or
/// resumable URL → tus → finalize → processing) and by a plain tus client (e.g. tusd).
///
/// Implementations stream from the cache file and must stop promptly when their task is cancelled.
public protocol UploadTarget: Sendable {
    /// Uploads `file` (an absolute path in the cache) as `remotePath` (mount-relative).
    ///
    /// With `resume`, asks the server for its offset first and continues from there; creates a new upload
    /// only when the server no longer has it. Calls `onResumeData` once the upload exists on the server and
    /// waits for it to return before sending bytes (the engine journals the data). Reports the offset the
    /// server acknowledged through `progress`.
    func upload(
        file: String, remotePath: String, size: Int64, resume: ResumeData?,
        onResumeData: @escaping @Sendable (ResumeData) async -> Void,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws(UploadTargetError) -> UploadOutcome

    /// Turns a complete upload into a file (Media Manager: upload token → file descriptor).
    ///
    /// Must be idempotent: the engine asks again after a crash, and a token that was already finalized
    /// returns the same file, never a second one. Likewise `upload` with `resume` for an upload the server
    /// already has completely returns its outcome without sending anything.
    func finalize(resume: ResumeData, remotePath: String, size: Int64) async throws(UploadTargetError) -> RemoteFile

    /// The processing status of a stored file.
    func processingStatus(remoteId: String) async throws(UploadTargetError) -> ProcessingStatus

    /// Asks the service once, cheaply and without retrying, whether it answers: the engine's probe while the
    /// service is unreachable. Throws an outage error (``UploadTargetError/isOutage``, with the service's
    /// `Retry-After` when it gave one) while it is away; any answer that is not an outage (even a refusal)
    /// means it is back.
    func probe() async throws(UploadTargetError)

    /// Moves a stored file to the service's trash.
    func delete(remoteId: String) async throws(UploadTargetError)

    /// Renames or moves a stored file (its descriptor's name and folder).
    func rename(remoteId: String, to newRemotePath: String) async throws(UploadTargetError)

    /// Deletes an unfinished upload on the server (tus termination). The engine terminates uploads it has
    /// superseded; when such an upload was finalized after all (a crash or a cancellation racing with the
    /// service), the file it became must go to the trash too, or it is left as an orphan.
    func terminate(resume: ResumeData) async throws(UploadTargetError)

    /// Work the target may do ahead of an upload while the file waits out its write-back delay, such as
    /// reading its content type or asking for an upload URL; called when a file is closed. Must return at once
    /// (do the work elsewhere), make nothing visible on the service under the file's current name, and not
    /// matter if the file changes, moves or goes again: it is a hint.
    func prepare(file: String, remotePath: String)

    /// Uploads of at least this many bytes are named only when finalized: their folder is fixed when the
    /// upload is created, their file name is given to ``finalize(resume:remotePath:size:)`` (the Media
    /// Manager's tus flow). The engine starts such an upload as soon as the file is closed and holds back
    /// only the finalize until the write-back delay has passed; a rename within the same folder meanwhile
    /// keeps the upload going. nil (the default): every upload waits for the write-back delay.
    var namedAtFinalizeFromSize: Int64? { get }
}

extension UploadTarget {
    /// Targets whose uploads are stored as soon as the bytes are in never ask to finalize.
    public func finalize(resume: ResumeData, remotePath: String, size: Int64) async throws(UploadTargetError) -> RemoteFile {
        throw .permanent("this target has no finalize step")
    }

    /// Nothing to prepare by default.
    public func prepare(file: String, remotePath: String) {}

    /// No upload is named at finalize by default.
    public var namedAtFinalizeFromSize: Int64? { nil }

    /// Targets without processing report READY at once.
    public func processingStatus(remoteId: String) async throws(UploadTargetError) -> ProcessingStatus {
        .ready(url: nil)
    }
}
