import HTTPTypes

/// An error that knows how it is answered over HTTP: a status, a message for the JSON body, extra headers.
///
/// Every typed error of the server modules (``TusRefusal``, the media service's errors) conforms;
/// ``JSONErrorMiddleware`` is the one place that turns them (and any other error) into a response.
public protocol ServerError: Error, Sendable {
    /// The HTTP status of the answer.
    var status: HTTPResponse.Status { get }
    /// What went wrong, for a person: the `message` of the JSON body.
    var message: String { get }
    /// A short machine-readable code for `details.applicationError.code`.
    var code: String { get }
    /// Headers the answer must carry besides `Content-Type` (e.g. `Tus-Resumable`, `Tus-Version`).
    var headers: HTTPFields { get }
}

extension ServerError {
    public var headers: HTTPFields { [:] }
}

/// A generic ``ServerError`` with a status and a message.
public struct HTTPServerError: ServerError {
    public let status: HTTPResponse.Status
    public let message: String
    public let code: String
    public let headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String, code: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.code = code ?? "HTTP_\(status.code)"
        self.headers = headers
    }
}
