import HTTPTypes
import TusServer

/// The one mapping of ``MediaServiceError`` to HTTP statuses, messages, error codes and headers.
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
