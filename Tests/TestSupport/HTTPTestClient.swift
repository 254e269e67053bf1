import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP answer as tests look at it.
public struct HTTPTestResponse: Sendable {
    public let status: Int
    public let headers: [String: String]
    public let body: Data

    /// A header's value, looked up case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object (nil when it is not one).
    public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }

    /// `message` of a JSON error body.
    public var errorMessage: String? { json?["message"] as? String }
}

/// A small HTTP client for tests: any method, exact headers, a body; redirects not followed, no cookies.
public enum HTTPTestClient {
    private static let session: URLSession = {
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 60
        config.httpShouldSetCookies = false
        config.urlCache = nil
        return URLSession(configuration: config)
    }()

    /// Sends one request and returns the answer (throws only on network errors).
    public static func send(
        _ method: String, _ url: URL, headers: [String: String] = [:], body: Data? = nil
    ) async throws -> HTTPTestResponse {
        var request = URLRequest(url: url)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body { request.httpBody = body }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw TestFailure("not an HTTP response") }
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let k = key as? String, let v = value as? String { fields[k] = v }
        }
        return HTTPTestResponse(status: http.statusCode, headers: fields, body: data)
    }

    /// Sends a JSON body (`Content-Type: application/json`).
    public static func json(
        _ method: String, _ url: URL, _ object: Any, headers: [String: String] = [:]
    ) async throws -> HTTPTestResponse {
        let body = try JSONSerialization.data(withJSONObject: object)
        return try await send(method, url, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a }, body: body)
    }
}

/// Random bytes for test files.
public func randomBytes(_ count: Int) -> Data {
    var g = SystemRandomNumberGenerator()
    var data = Data(count: count)
    data.withUnsafeMutableBytes { raw in
        var i = 0
        while i + 8 <= raw.count {
            raw.storeBytes(of: g.next(), toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < raw.count { raw[i] = UInt8.random(in: 0...255, using: &g); i += 1 }
    }
    return data
}

/// Uploads with the `curl` command: a fresh connection per call, so a connection the server cuts is seen as
/// cut (URLSession may silently retry a request on a reused connection).
public enum Curl {
    /// Sends `body` with `method`; returns curl's exit status and the HTTP status (0 when none arrived).
    public static func send(_ method: String, _ url: URL, headers: [String: String], body: Data) throws -> (exit: Int32, status: Int) {
        let result = try exchange(method, url, headers: headers, body: body)
        return (result.exit, result.status)
    }

    /// Like ``send(_:_:headers:body:)``, also returning the response body.
    public static func exchange(
        _ method: String, _ url: URL, headers: [String: String], body: Data
    ) throws -> (exit: Int32, status: Int, body: Data) {
        let dir = try TemporaryDirectory("curl")
        defer { dir.remove() }
        let file = dir.appending("body")
        _ = FileManager.default.createFile(atPath: file, contents: body)
        var args = ["-s", "-o", dir.appending("response"), "-w", "%{http_code}", "-X", method, "--data-binary", "@\(file)"]
        for (name, value) in headers { args += ["-H", "\(name): \(value)"] }
        args.append(url.absoluteString)
        let result = try ProcessRunner.run("curl", args)
        let response = FileManager.default.contents(atPath: dir.appending("response")) ?? Data()
        return (result.status, Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, response)
    }
}

/// Runs blocking work (a child process, a sleep-poll) on a thread of its own instead of the Swift concurrency pool.
///
/// Async tests must use this for anything that blocks while an in-process server answers: the pool has as many
/// threads as cores (2 here), and a test blocking them all would starve the server it waits for. (Dispatch's
/// global queue is no better: on Linux it is as narrow, and `ProcessRunner` itself waits on it.)
public func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try work() })
        }
    }
}
