import Foundation
import Hummingbird
import Logging
import NIOCore

/// Turns every error a route throws into a JSON answer `{ "message": "…", "details": { "applicationError": … } }`.
///
/// This is the one place where errors become HTTP statuses: ``ServerError``s carry their own status;
/// Hummingbird's `HTTPError` keeps its status; a request body that is not valid JSON is 400; anything else is a
/// 500 whose cause goes to the log, not to the client.
///
/// Each refusal is logged with the request's path as `loggedPath` gives it: a service whose URLs carry
/// credentials in their paths (signed upload URLs) passes a function that hides them.
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let loggedPath: @Sendable (String) -> String

    public init(loggedPath: @escaping @Sendable (String) -> String = { $0 }) {
        self.loggedPath = loggedPath
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let serverError = Self.serverError(for: error)
            if serverError.status.code >= 500, !serverError.code.hasPrefix("INJECTED") {
                context.logger.error("\(request.method) \(loggedPath(request.uri.path)) failed: \(error)")
            } else {
                context.logger.debug("\(request.method) \(loggedPath(request.uri.path)) → \(serverError.status.code): \(serverError.message)")
            }
            return Self.response(for: serverError)
        }
    }

    /// The ``ServerError`` an arbitrary error is answered with.
    public static func serverError(for error: any Error) -> any ServerError {
        switch error {
        case let error as any ServerError:
            return error
        case let error as HTTPError:
            let message = error.body ?? error.status.reasonPhrase
            return HTTPServerError(error.status, error.status == .contentTooLarge ? "request body is too large" : message, headers: error.headers)
        case is NIOTooManyBytesError:
            return HTTPServerError(.contentTooLarge, "request body is too large", code: "TOO_LARGE")
        case let error as DecodingError:
            return HTTPServerError(.badRequest, "invalid JSON body: \(describe(error))", code: "INVALID_JSON")
        default:
            return HTTPServerError(.internalServerError, "internal server error", code: "INTERNAL")
        }
    }

    /// The JSON response for `error`.
    public static func response(for error: any ServerError) -> Response {
        JSONErrorBody(message: error.message, code: error.code).response(status: error.status, headers: error.headers)
    }
}

/// The `{message, details}` body of an error answer.
struct JSONErrorBody: Encodable {
    struct Details: Encodable {
        struct ApplicationError: Encodable {
            let code: String
            let description: String
        }
        let applicationError: ApplicationError
    }
    let message: String
    let details: Details

    init(message: String, code: String) {
        self.message = message
        self.details = Details(applicationError: .init(code: code, description: message))
    }

    func response(status: HTTPResponse.Status, headers: HTTPFields) -> Response {
        let data = (try? JSONEncoder().encode(self)) ?? Data("{\"message\":\"error\"}".utf8)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A short description of a JSON decoding error: which field, and what was wrong.
func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let p = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        return p.isEmpty ? "body" : p
    }
    switch error {
    case .keyNotFound(let key, let context):
        let parent = path(context)
        return "missing field \(parent == "body" ? key.stringValue : parent + "." + key.stringValue)"
    case .typeMismatch(_, let context): return "wrong type at \(path(context))"
    case .valueNotFound(_, let context): return "missing value at \(path(context))"
    case .dataCorrupted(let context): return "malformed JSON at \(path(context))"
    @unknown default: return "malformed JSON"
    }
}
