/// Why the media service refused a call. Its HTTP status and JSON body are given in one place,
/// `MediaServiceError+ServerError.swift` (the body is written by `JSONErrorMiddleware`); this file needs nothing
/// but the standard library, so the request checks that throw it also build alone (see `Fuzz/`).
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
