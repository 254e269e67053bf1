import AsyncHTTPClient
import Foundation
import Timekeeping
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

    var tusError: TusError {
        if let retryAfter, status == 429 || status == 503 { return .busy(status: status, message: message, retryAfter: retryAfter) }
        return .http(status: status, message: message)
    }
}

/// The outcome of classifying a failed attempt: the error to report, and the wait asked by the server.
struct RetryableFailure {
    var error: Error
    var retryAfter: Duration?
}

extension TusUploader {
    /// Largest response body read; tus answers are empty and error bodies are short.
    static let maxResponseBody = 1024 * 1024

    /// Sends one request with the tus headers and returns a 2xx answer; any other status throws
    /// ``HTTPStatusFailure``, transport errors are thrown as they come.
    func send(
        _ method: HTTPMethod, _ url: URL, headers extra: HTTPHeaders = [:], body: HTTPClientRequest.Body?,
        tusResumable: Bool = true
    ) async throws -> HTTPResponse {
        var request = HTTPClientRequest(url: url.absoluteString)
        (request.method, request.headers) = requestHead(method, headers: extra, hasBody: body != nil, tusResumable: tusResumable)
        request.body = body
        logger.trace("tus request", metadata: ["method": "\(method.rawValue)", "url": "\(url.absoluteString)"])
        let response = try await httpClient.execute(request, deadline: requestDeadline(), logger: logger)
        let bytes = method == .HEAD ? ByteBuffer() : try await response.body.collect(upTo: Self.maxResponseBody)
        return try Self.checked(HTTPResponse(status: Int(response.status.code), headers: response.headers, body: bytes))
    }

    /// Sends one request whose body is `count` bytes of `file` from `offset`, like ``send(_:_:headers:body:tusResumable:)``.
    ///
    /// Over plain http the kernel copies the bytes from the file to the socket (`sendfile`): no read into memory,
    /// no buffer per block. Over https (TLS must see the bytes) the body is read in blocks (``FileRegionBody``).
    func send(
        _ method: HTTPMethod, _ url: URL, headers extra: HTTPHeaders = [:], file: ReadOnlyFile, offset: Int64, count: Int64
    ) async throws -> HTTPResponse {
        guard url.scheme?.lowercased() == "http", count > 0 else {
            let body = HTTPClientRequest.Body.stream(
                FileRegionBody(file: file, offset: offset, length: count, blockSize: configuration.readBlockSize),
                length: .known(count))
            return try await send(method, url, headers: extra, body: body)
        }
        let (requestMethod, headers) = requestHead(method, headers: extra, hasBody: true, tusResumable: true)
        let region = try file.sendableRegion(offset: offset, count: count)
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(
                url: url.absoluteString, method: requestMethod, headers: headers,
                body: .stream(contentLength: count) { writer in writer.write(.fileRegion(region.region)) })
        } catch {
            region.close()
            throw error
        }
        logger.trace("tus request", metadata: ["method": "\(method.rawValue)", "url": "\(url.absoluteString)", "sendfile": "true"])
        let task = httpClient.execute(
            request: request, delegate: ResponseAccumulator(request: request, maxBodySize: Self.maxResponseBody),
            deadline: requestDeadline(), logger: logger)
        // The region's descriptor (a duplicate) is closed once the answer arrived (the server answers after the
        // body) or the request failed. Not when the body writer's future completes: that may be before the
        // kernel took the bytes. A write still queued when it is closed fails (NIO does not use a closed handle).
        defer { region.close() }
        let response = try await withTaskCancellationHandler {
            try await task.futureResult.get()
        } onCancel: {
            task.cancel()
        }
        return try Self.checked(HTTPResponse(status: Int(response.status.code), headers: response.headers, body: response.body ?? ByteBuffer()))
    }

    /// The method and headers of a request: the tus headers, the configured extra headers, method override.
    private func requestHead(
        _ method: HTTPMethod, headers extra: HTTPHeaders, hasBody: Bool, tusResumable: Bool
    ) -> (HTTPMethod, HTTPHeaders) {
        var requestMethod = method
        var headers = HTTPHeaders()
        if configuration.useMethodOverride, method == .PATCH || method == .DELETE {
            requestMethod = .POST
            headers.add(name: TusHeader.methodOverride, value: method.rawValue)
        }
        if tusResumable { headers.add(name: TusHeader.resumable, value: TusVersion.current) }
        headers.add(contentsOf: configuration.additionalHeaders)
        headers.add(contentsOf: extra)
        if !hasBody, method == .POST || method == .PATCH {
            headers.add(name: "Content-Length", value: "0")
        }
        return (requestMethod, headers)
    }

    private func requestDeadline() -> NIODeadline {
        NIODeadline.now() + .nanoseconds(Int64(configuration.requestTimeout.seconds * 1e9))
    }

    /// `response` when it is a 2xx; otherwise throws ``HTTPStatusFailure``.
    private static func checked(_ response: HTTPResponse) throws -> HTTPResponse {
        guard (200..<300).contains(response.status) else {
            throw HTTPStatusFailure(
                status: response.status,
                message: serverMessage(response.body, reason: HTTPResponseStatus(statusCode: response.status).reasonPhrase),
                retryAfter: response.headers.first(name: HTTPHeaderName.retryAfter).flatMap { RequestRetryPolicy.parseRetryAfter($0) })
        }
        return response
    }

    /// Decides whether a failed attempt may be retried. Throws the final error when it may not.
    func classify(_ error: Error) throws -> RetryableFailure {
        if Task.isCancelled || error is CancellationError { throw CancellationError() }
        switch error {
        case let failure as HTTPStatusFailure:
            guard configuration.retryPolicy.retries(status: failure.status) else { throw failure.tusError }
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
