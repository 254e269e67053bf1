import MediaManagerAPI

/// Why a Media Manager call failed.
public enum MediaManagerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The service answered with an error status; `message` is its JSON `message` (or the body text).
    case http(status: Int, message: String)
    /// The service answered 429 or 503 and asked the client to wait (`Retry-After`) before trying again.
    case busy(status: Int, message: String, retryAfter: Duration)
    /// The connection failed and retries ran out.
    case network(String)
    /// The service's answer was not the JSON expected.
    case invalidResponse(String)
    /// The file could not be read.
    case file(path: String, message: String)
    /// The file did not reach READY or FAILED in time.
    case timedOut(fileID: String, lastStatus: String?)

    /// The wait the service asked for with a 429 or 503, when it gave one.
    public var retryAfter: Duration? {
        if case .busy(_, _, let wait) = self { return wait }
        return nil
    }

    /// The HTTP status the service answered with, when the failure came from one.
    public var status: Int? {
        switch self {
        case .http(let status, _), .busy(let status, _, _): return status
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .http(let status, let message): return "service answered HTTP \(status): \(message)"
        case .busy(let status, let message, let wait):
            return "service answered HTTP \(status): \(message) (retry after \(wait.components.seconds) s)"
        case .network(let message): return "network error: \(message)"
        case .invalidResponse(let message): return "unexpected answer from the service: \(message)"
        case .file(let path, let message): return "\(path): \(message)"
        case .timedOut(let fileID, let status):
            return "file \(fileID) still \(status ?? "unknown") when the wait ended"
        }
    }
}
