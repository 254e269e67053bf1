import AsyncHTTPClient
import Foundation
import Logging
import MediaManagerAPI
import NIOCore
import NIOHTTP1
import TusClient

/// An empty request body for calls that take none.
struct NoBody: Encodable {}

extension MediaManagerClient {
    static let maxResponseBody = 16 * 1024 * 1024

    /// A management call: JSON in and out, with the credentials, retried on network errors, 408, 429 and 5xx.
    func call<Response: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [URLQueryItem] = []
    ) async throws -> Response {
        try await call(method, path, query: query, body: Optional<NoBody>.none)
    }

    func call<Request: Encodable, Response: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [URLQueryItem] = [], body: Request?
    ) async throws -> Response {
        let url = try Self.url(baseURL.absoluteString + path, adding: query)
        var headers = HTTPHeaders()
        if let apiKey = credentials.apiKey { headers.add(name: "Authorization", value: apiKey) }
        if let siteID = credentials.siteID { headers.add(name: "wix-site-id", value: siteID) }
        var payload: ByteBuffer?
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            payload = ByteBuffer(bytes: try JSONEncoder().encode(body))
        }
        let bytes = try await withRetries("\(method.rawValue) \(path)") {
            try await self.send(method, url, headers: headers, body: payload.map { .bytes($0) })
        }
        do {
            return try JSONDecoder().decode(Response.self, from: Data(bytes.readableBytesView))
        } catch {
            throw MediaManagerError.invalidResponse("\(method.rawValue) \(path): \(error)")
        }
    }

    /// Sends one request and returns the body of a 2xx answer; other statuses throw ``MediaManagerError/http(status:message:)``.
    func send(_ method: HTTPMethod, _ url: URL, headers: HTTPHeaders, body: HTTPClientRequest.Body?) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        request.headers = headers
        request.body = body
        let deadline = NIODeadline.now() + .nanoseconds(Int64(Double(requestTimeout.components.seconds) * 1e9))
        let response = try await httpClient.execute(request, deadline: deadline, logger: logger)
        let bytes = try await response.body.collect(upTo: Self.maxResponseBody)
        guard (200..<300).contains(response.status.code) else {
            let status = Int(response.status.code), message = Self.message(bytes, response.status)
            if status == 429 || status == 503,
                let wait = response.headers.first(name: "Retry-After").flatMap({ RequestRetryPolicy.parseRetryAfter($0) })
            {
                throw MediaManagerError.busy(status: status, message: message, retryAfter: wait)
            }
            throw MediaManagerError.http(status: status, message: message)
        }
        return bytes
    }

    /// Runs `attempt` again after network errors, 408, 429 and 5xx, with backoff (or the service's
    /// `Retry-After`, up to the policy's longest wait), while the budget lasts.
    func withRetries<T>(_ what: String, _ attempt: () async throws -> T) async throws -> T {
        var budget = RetryBudget(policy: retryPolicy)
        while true {
            try Task.checkCancellation()
            do {
                return try await attempt()
            } catch {
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                let failure: MediaManagerError
                switch error {
                case let error as MediaManagerError:
                    guard let status = error.status, [408, 429].contains(status) || status >= 500 else { throw error }
                    if status == 429 && !retryPolicy.retriesThrottled { throw error }
                    failure = error
                case TusError.file(let path, let message):
                    throw MediaManagerError.file(path: path, message: message)
                case _ where TLSFailure.isHandshakeFailure(error):
                    throw MediaManagerError.network(TLSFailure.message(error))
                default:
                    failure = .network(String(describing: error))
                }
                guard let wait = budget.recordFailure(retryAfter: failure.retryAfter, random: Double.random(in: 0..<1)) else {
                    throw failure
                }
                logger.notice("Media Manager call failed, retrying", metadata: ["call": "\(what)", "error": "\(failure)"])
                try await Task.sleep(for: wait)
            }
        }
    }

    /// `base` with `items` added to its query (keeping any query it already has, such as a signature).
    static func url(_ base: String, adding items: [URLQueryItem]) throws -> URL {
        guard var components = URLComponents(string: base) else {
            throw MediaManagerError.invalidResponse("not a URL: \(base)")
        }
        if !items.isEmpty { components.queryItems = (components.queryItems ?? []) + items }
        // `+` is a space to some servers' form decoders; encode it so names keep their plus signs.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        guard let url = components.url else { throw MediaManagerError.invalidResponse("not a URL: \(base)") }
        return url
    }

    /// The `message` of a JSON error body, else its text, else the status's reason.
    static func message(_ body: ByteBuffer, _ status: HTTPResponseStatus) -> String {
        let data = Data(body.readableBytesView)
        if let error = try? JSONDecoder().decode(ErrorResponse.self, from: data) { return error.message }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? status.reasonPhrase : String(text.prefix(500))
    }
}
