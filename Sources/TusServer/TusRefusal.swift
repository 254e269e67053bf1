import HTTPTypes
import TusCore

/// Why the tus server refused a request. Each case is answered with the status the tus 1.0.0 specification
/// gives for it (see ``status``), a JSON message, and `Tus-Resumable` (plus `Tus-Version` on 412).
public enum TusRefusal: Error, Sendable, Equatable {
    /// `Tus-Resumable` is missing or names a version this server does not speak. (412)
    case unsupportedVersion(String?)
    /// A header is malformed or missing, or the request contradicts the upload. (400)
    case badRequest(String)
    /// A PATCH without `Content-Type: application/offset+octet-stream`. (415)
    case wrongContentType(String?)
    /// `Upload-Offset` differs from the server's offset; nothing was written. (409)
    case offsetMismatch(expected: Int64, got: Int64)
    /// No upload with that id (or the caller may not know it exists). (404)
    case notFound
    /// The upload expired or was terminated. (410)
    case gone(String)
    /// The upload (or this body) is larger than `Tus-Max-Size` or than its `Upload-Length`. (413)
    case tooLarge(String)
    /// `Upload-Checksum` did not match the body; the chunk was discarded. (460)
    case checksumMismatch
    /// Another request is writing to this upload right now. (423)
    case locked
    /// The service behind the tus server refused the request (e.g. a bad upload token). (403)
    case forbidden(String)
    /// An injected fault (`--fail-rate`). (503)
    case injectedFailure
    /// Storing the upload failed on the server. (500)
    case storage(String)
    /// A GET of an upload that is not finished. (409)
    case unfinished
}

extension TusRefusal: ServerError {
    /// The HTTP status of each case: the one mapping from tus errors to statuses.
    public var status: HTTPResponse.Status {
        switch self {
        case .unsupportedVersion: return .preconditionFailed
        case .badRequest: return .badRequest
        case .wrongContentType: return .unsupportedMediaType
        case .offsetMismatch: return .conflict
        case .notFound: return .notFound
        case .gone: return .gone
        case .tooLarge: return .contentTooLarge
        case .checksumMismatch: return HTTPResponse.Status(code: 460, reasonPhrase: "Checksum Mismatch")
        case .locked: return HTTPResponse.Status(code: 423, reasonPhrase: "Locked")
        case .forbidden: return .forbidden
        case .injectedFailure: return .serviceUnavailable
        case .storage: return .internalServerError
        case .unfinished: return .conflict
        }
    }

    public var message: String {
        switch self {
        case .unsupportedVersion(let v):
            return v.map { "unsupported Tus-Resumable \"\($0)\"; this server speaks \(TusVersion.current)" }
                ?? "missing Tus-Resumable header; this server speaks \(TusVersion.current)"
        case .badRequest(let why): return why
        case .wrongContentType(let t):
            return "Content-Type must be \(TusHeader.offsetOctetStream), got \(t.map { "\"\($0)\"" } ?? "none")"
        case .offsetMismatch(let expected, let got):
            return "Upload-Offset \(got) does not match the upload's offset \(expected)"
        case .notFound: return "upload not found"
        case .gone(let why): return why
        case .tooLarge(let why): return why
        case .checksumMismatch: return "Upload-Checksum does not match the body; the chunk was discarded"
        case .locked: return "another request is writing to this upload; retry later"
        case .forbidden(let why): return why
        case .injectedFailure: return "injected failure (fault injection is on)"
        case .storage(let why): return "storage error: \(why)"
        case .unfinished: return "the upload is not finished: its data can be read once all of it has arrived"
        }
    }

    public var code: String {
        switch self {
        case .unsupportedVersion: return "TUS_UNSUPPORTED_VERSION"
        case .badRequest: return "TUS_BAD_REQUEST"
        case .wrongContentType: return "TUS_WRONG_CONTENT_TYPE"
        case .offsetMismatch: return "TUS_OFFSET_MISMATCH"
        case .notFound: return "TUS_UPLOAD_NOT_FOUND"
        case .gone: return "TUS_UPLOAD_GONE"
        case .tooLarge: return "TUS_TOO_LARGE"
        case .checksumMismatch: return "TUS_CHECKSUM_MISMATCH"
        case .locked: return "TUS_UPLOAD_LOCKED"
        case .forbidden: return "TUS_FORBIDDEN"
        case .injectedFailure: return "INJECTED_FAILURE"
        case .storage: return "TUS_STORAGE"
        case .unfinished: return "TUS_UPLOAD_UNFINISHED"
        }
    }

    public var headers: HTTPFields {
        var fields: HTTPFields = [.tusResumable: TusVersion.current, .cacheControl: "no-store"]
        if case .unsupportedVersion = self { fields[.tusVersion] = TusVersion.supported.joined(separator: ",") }
        return fields
    }
}
