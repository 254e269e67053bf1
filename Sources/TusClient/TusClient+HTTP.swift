import AsyncHTTPClient
import Foundation
import TusCore
import NIOCore
import NIOHTTP1

/// A finished HTTP exchange: status, headers and the (small) response body.
struct HTTPResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: ByteBuffer
}

/// A non-2xx answer, before it is decided whether to retry it.
struct HTTPStatusFailure: Error, Sendable {
    var status: Int
    var message: String
    var retryAfter: Duration?

    var tusError: TusError { .http(status: status, message: message) }
}

/// The outcome of classifying a failed attempt: the error to report, and the wait asked by the server.
struct RetryableFailure {
    var error: Error
    var retryAfter: Duration?
}

extension TusClient {
    /// Largest response body read; tus answers are empty and error bodies are short.
    static let maxResponseBody = 1024 * 1024

    /// Sends one request with the tus headers and returns a 2xx answer; any other status throws
    /// ``HTTPStatusFailure``, transport errors are thrown as they come.
    func send(
        _ method: HTTPMethod, _ url: URL, headers extra: HTTPHeaders = [:], body: HTTPClientRequest.Body?,
        tusResumable: Bool = true
    ) async throws -> HTTPResponse {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        if configuration.useMethodOverride, method == .PATCH || method == .DELETE {
            request.method = .POST
            request.headers.add(name: TusHeader.methodOverride, value: method.rawValue)
        }
        if tusResumable { request.headers.add(name: TusHeader.resumable, value: TusVersion.current) }
        request.headers.add(contentsOf: configuration.additionalHeaders)
        request.headers.add(contentsOf: extra)
        if body == nil, method == .POST || method == .PATCH {
            request.headers.add(name: "Content-Length", value: "0")
        }
        request.body = body
        logger.trace("tus request", metadata: ["method": "\(method.rawValue)", "url": "\(url.absoluteString)"])
        let deadline = NIODeadline.now() + .nanoseconds(Int64(configuration.requestTimeout.seconds * 1e9))
        let response = try await httpClient.execute(request, deadline: deadline, logger: logger)
        let bytes = method == .HEAD ? ByteBuffer() : try await response.body.collect(upTo: Self.maxResponseBody)
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            throw HTTPStatusFailure(
                status: status, message: Self.serverMessage(bytes, reason: response.status.reasonPhrase),
                retryAfter: response.headers.first(name: HTTPHeaderName.retryAfter).flatMap { RetryPolicy.parseRetryAfter($0) })
        }
        return HTTPResponse(status: status, headers: response.headers, body: bytes)
    }

    /// Decides whether a failed attempt may be retried. Throws the final error when it may not.
    func classify(_ error: Error) throws -> RetryableFailure {
        if Task.isCancelled || error is CancellationError { throw CancellationError() }
        switch error {
        case let failure as HTTPStatusFailure:
            guard RetryPolicy.isRetryable(status: failure.status) else { throw failure.tusError }
            return RetryableFailure(error: failure.tusError, retryAfter: failure.retryAfter)
        case let failure as TusError:
            throw failure
        case _ where TLSFailure.isHandshakeFailure(error):
            throw TusError.network(TLSFailure.message(error))
        default:
            return RetryableFailure(error: TusError.network(String(describing: error)), retryAfter: nil)
        }
    }

    /// Runs `attempt` until it succeeds, retrying what ``classify(_:)`` allows while `budget` lasts.
    func retrying<T>(
        _ budget: inout RetryBudget, what: String, _ attempt: () async throws -> T
    ) async throws -> T {
        while true {
            try Task.checkCancellation()
            do {
                return try await attempt()
            } catch {
                let failure = try classify(error)
                guard let wait = budget.recordFailure(retryAfter: failure.retryAfter, random: configuration.random())
                else { throw failure.error }
                logger.notice(
                    "tus request failed, retrying",
                    metadata: [
                        "request": "\(what)", "error": "\(failure.error)", "attempt": "\(budget.consecutiveFailures)",
                        "wait_ms": "\(Int(wait.seconds * 1000))",
                    ])
                try await configuration.sleep(wait)
            }
        }
    }

    /// The server's message from an error body: the `message` field of a JSON body, else the text itself.
    static func serverMessage(_ body: ByteBuffer, reason: String) -> String {
        let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return reason }
        if let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let message = object["message"] as? String ?? object["detail"] as? String
        {
            return message
        }
        return String(text.prefix(500))
    }
}
