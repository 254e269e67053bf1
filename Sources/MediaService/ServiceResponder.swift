import Hummingbird
import TusServer

/// The outermost layer of the service: applies `X-HTTP-Method-Override` before routing, adds the injected
/// latency, refuses requests past the rate limit (429 with `Retry-After`), and counts every answered request by
/// method, route and status for `/metrics`.
struct ServiceResponder<Wrapped: HTTPResponder>: HTTPResponder where Wrapped.Context: RequestContext {
    typealias Context = Wrapped.Context
    let wrapped: MethodOverrideResponder<Wrapped>
    let metrics: ServerMetrics
    let latency: Duration?
    let rateLimit: RequestRateLimit?

    init(_ wrapped: Wrapped, metrics: ServerMetrics, latency: Duration?, rateLimit: Int? = nil) {
        self.wrapped = MethodOverrideResponder(wrapped)
        self.metrics = metrics
        self.latency = latency
        self.rateLimit = rateLimit.map(RequestRateLimit.init(rate:))
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        if let latency { try await Task.sleep(for: latency) }
        if let rateLimit, !["/healthz", "/metrics"].contains(request.uri.path), let wait = rateLimit.take() {
            metrics.countRequest(method: request.method.rawValue, route: "rate-limited", status: 429)
            let body = #"{"message":"over the rate limit of \#(rateLimit.rate) requests per second"}"#
            return Response(
                status: .tooManyRequests, headers: [.contentType: "application/json", .retryAfter: "\(wait)"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
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
