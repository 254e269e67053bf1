import HTTPTypes
import TusServer

/// Why the media service refused a call. ``status`` is the one mapping of these errors to HTTP statuses;
/// the JSON body is written by `JSONErrorMiddleware`.
public enum MediaServiceError: Error, Sendable, Equatable {
    /// A request field is missing or invalid. (400)
    case invalidArgument(String)
    /// No `Authorization` header on a management call. (401)
    case unauthenticated
    /// A wrong API key. (403)
    case wrongAPIKey
    /// An upload URL or download URL whose signature does not verify. (403)
    case badSignature
    /// An upload URL, token or download URL past its expiry. (403)
    case expired(String)
    /// An upload token or URL that was already used. (403)
    case alreadyUsed(String)
    /// No such file or folder. (404)
    case notFound(String)
    /// The request conflicts with the object's state (e.g. finalizing an unfinished upload). (409)
    case conflict(String)
    /// The body or file is too large. (413)
    case tooLarge(String)
    /// A requested byte range outside the file. (416)
    case rangeNotSatisfiable(size: Int64)
    /// An injected fault (`--fail-rate`). (503)
    case injectedFailure
    /// Something failed on the server. (500)
    case internalError(String)
}

extension MediaServiceError: ServerError {
    public var status: HTTPResponse.Status {
        switch self {
        case .invalidArgument: return .badRequest
        case .unauthenticated: return .unauthorized
        case .wrongAPIKey, .badSignature, .expired, .alreadyUsed: return .forbidden
        case .notFound: return .notFound
        case .conflict: return .conflict
        case .tooLarge: return .contentTooLarge
        case .rangeNotSatisfiable: return .rangeNotSatisfiable
        case .injectedFailure: return .serviceUnavailable
        case .internalError: return .internalServerError
        }
    }

    public var message: String {
        switch self {
        case .invalidArgument(let why): return why
        case .unauthenticated: return "missing Authorization header (an API key is required)"
        case .wrongAPIKey: return "the API key is not valid"
        case .badSignature: return "the URL's signature is not valid"
        case .expired(let what): return "\(what) has expired"
        case .alreadyUsed(let what): return "\(what) was already used"
        case .notFound(let what): return "\(what) not found"
        case .conflict(let why): return why
        case .tooLarge(let why): return why
        case .rangeNotSatisfiable(let size): return "the requested range is outside the file (\(size) bytes)"
        case .injectedFailure: return "injected failure (fault injection is on)"
        case .internalError(let why): return "internal error: \(why)"
        }
    }

    public var code: String {
        switch self {
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .unauthenticated: return "UNAUTHENTICATED"
        case .wrongAPIKey: return "PERMISSION_DENIED"
        case .badSignature: return "INVALID_SIGNATURE"
        case .expired: return "EXPIRED"
        case .alreadyUsed: return "ALREADY_USED"
        case .notFound: return "NOT_FOUND"
        case .conflict: return "CONFLICT"
        case .tooLarge: return "TOO_LARGE"
        case .rangeNotSatisfiable: return "RANGE_NOT_SATISFIABLE"
        case .injectedFailure: return "INJECTED_FAILURE"
        case .internalError: return "INTERNAL"
        }
    }

    public var headers: HTTPFields {
        if case .rangeNotSatisfiable(let size) = self { return [.contentRange: "bytes */\(size)"] }
        return [:]
    }
}
