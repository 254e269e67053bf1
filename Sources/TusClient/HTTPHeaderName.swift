import TusCore

/// Header names the client needs beyond the tus vocabulary in `TusCore.TusHeader`.
enum HTTPHeaderName {
    static let retryAfter = "Retry-After"
    static let contentType = "Content-Type"
}
