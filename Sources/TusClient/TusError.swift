import Foundation

/// Why a tus operation failed. Carries the server's HTTP status and message where there was one.
public enum TusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered with a status that is not retried (most 4xx) or retries ran out on it.
    case http(status: Int, message: String)
    /// The server was busy (429, 503) and said when to come back (`Retry-After`), and retries ran out or were
    /// not allowed (``RequestRetryPolicy/retriesThrottled``): the caller waits at least `retryAfter`.
    case busy(status: Int, message: String, retryAfter: Duration)
    /// The upload no longer exists on the server (404/410, or `Upload-Expires` is in the past).
    /// The caller should create a new upload.
    case uploadNotFound(URL)
    /// The connection failed (refused, reset, cut mid-body, timed out) and retries ran out.
    case network(String)
    /// The server's answer broke the protocol (missing `Location`, missing or decreasing `Upload-Offset`, ...).
    case protocolViolation(String)
    /// The local file is shorter than the upload, or could not be read.
    case file(path: String, message: String)
    /// A metadata key or value cannot be sent (empty key, space or comma in a key, ...).
    case invalidMetadata(String)
    /// The file is larger than the server's `Tus-Max-Size`.
    case tooLarge(size: Int64, maxSize: Int64)

    /// The HTTP status the server answered with, when the failure came from one.
    public var status: Int? {
        switch self {
        case .http(let status, _), .busy(let status, _, _): return status
        default: return nil
        }
    }

    /// The server's own message (body text) for an HTTP failure.
    public var serverMessage: String? {
        switch self {
        case .http(_, let message), .busy(_, let message, _): return message
        default: return nil
        }
    }

    /// How long a busy server asked to be left alone (`Retry-After`).
    public var retryAfter: Duration? {
        if case .busy(_, _, let wait) = self { return wait }
        return nil
    }

    public var description: String {
        switch self {
        case .http(let status, let message):
            return message.isEmpty ? "server answered HTTP \(status)" : "server answered HTTP \(status): \(message)"
        case .busy(let status, let message, let wait):
            let asked = "retry after \(Int(wait.seconds.rounded(.up))) s"
            return message.isEmpty ? "server answered HTTP \(status) (\(asked))" : "server answered HTTP \(status): \(message) (\(asked))"
        case .uploadNotFound(let url): return "upload \(url.absoluteString) no longer exists on the server"
        case .network(let message): return "network error: \(message)"
        case .protocolViolation(let message): return "tus protocol violation: \(message)"
        case .file(let path, let message): return "\(path): \(message)"
        case .invalidMetadata(let message): return "invalid upload metadata: \(message)"
        case .tooLarge(let size, let maxSize): return "file of \(size) bytes is over the server's Tus-Max-Size \(maxSize)"
        }
    }
}
