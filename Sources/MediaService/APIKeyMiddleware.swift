import Hummingbird

/// Checks the API key of management calls (`Authorization: KEY`, a `Bearer ` prefix tolerated) in constant time.
/// Without a configured key every call passes: the embedded default on loopback.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let apiKey: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let apiKey else { return try await next(request, context) }
        guard var presented = request.headers[.authorization], !presented.isEmpty else {
            throw MediaServiceError.unauthenticated
        }
        if presented.hasPrefix("Bearer ") { presented.removeFirst(7) }
        guard ConstantTime.equals(presented, apiKey) else { throw MediaServiceError.wrongAPIKey }
        return try await next(request, context)
    }
}
