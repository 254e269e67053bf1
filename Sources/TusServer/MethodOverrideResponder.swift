import Hummingbird

/// Wraps the router so `X-HTTP-Method-Override` replaces the request method before the route is chosen.
public struct MethodOverrideResponder<Wrapped: HTTPResponder>: HTTPResponder {
    public typealias Context = Wrapped.Context
    let wrapped: Wrapped

    public init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    public func respond(to request: Request, context: Context) async throws -> Response {
        if let value = request.headers[.methodOverride], let method = HTTPRequest.Method(value.uppercased()),
            method != request.method
        {
            var head = request.head
            head.method = method
            return try await wrapped.respond(to: Request(head: head, body: request.body), context: context)
        }
        return try await wrapped.respond(to: request, context: context)
    }
}
