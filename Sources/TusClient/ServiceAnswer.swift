import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// How a service answered one probe: its status and the wait it asked for (`Retry-After`). A probe is one
/// request, never retried, that tells whether the service answers at all.
public struct ServiceAnswer: Sendable, Hashable {
    /// The HTTP status of the answer.
    public var status: Int
    /// The service's `Retry-After`, when it sent one.
    public var retryAfter: Duration?

    public init(status: Int, retryAfter: Duration? = nil) {
        self.status = status
        self.retryAfter = retryAfter
    }

    /// How long a probe may wait for an answer: a service that takes longer is as good as away.
    public static let timeout: Duration = .seconds(10)

    /// Sends `request` once, with ``timeout``, and returns how the service answered; throws when no answer
    /// came (connection refused or cut, timeout). The body is read and dropped.
    public static func probe(_ request: HTTPClientRequest, with client: HTTPClient) async throws -> ServiceAnswer {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)
        let response = try await client.execute(request, deadline: deadline)
        _ = try await response.body.collect(upTo: 64 * 1024)
        return ServiceAnswer(
            status: Int(response.status.code),
            retryAfter: response.headers.first(name: HTTPHeaderName.retryAfter).flatMap { RequestRetryPolicy.parseRetryAfter($0) })
    }
}

extension TusUploader {
    /// Sends one `OPTIONS` to `endpoint` (with the configured extra headers), without retrying, and returns
    /// how the server answered.
    public func probe(_ endpoint: URL) async throws -> ServiceAnswer {
        var request = HTTPClientRequest(url: endpoint.absoluteString)
        request.method = .OPTIONS
        request.headers.add(contentsOf: configuration.additionalHeaders)
        return try await ServiceAnswer.probe(request, with: httpClient)
    }
}
