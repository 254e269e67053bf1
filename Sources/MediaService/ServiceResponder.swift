import Hummingbird
import TusServer

/// The outermost layer of the service: applies `X-HTTP-Method-Override` before routing, adds the injected
/// latency, and counts every answered request by method, route and status for `/metrics`.
struct ServiceResponder<Wrapped: HTTPResponder>: HTTPResponder where Wrapped.Context: RequestContext {
    typealias Context = Wrapped.Context
    let wrapped: MethodOverrideResponder<Wrapped>
    let metrics: ServerMetrics
    let latency: Duration?

    init(_ wrapped: Wrapped, metrics: ServerMetrics, latency: Duration?) {
        self.wrapped = MethodOverrideResponder(wrapped)
        self.metrics = metrics
        self.latency = latency
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        if let latency { try await Task.sleep(for: latency) }
        do {
            let response = try await wrapped.respond(to: request, context: context)
            metrics.countRequest(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: Int(response.status.code))
            return response
        } catch {
            let status = JSONErrorMiddleware<Context>.serverError(for: error).status
            metrics.countRequest(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: Int(status.code))
            throw error
        }
    }
}
