import Foundation
import Logging
@testable import MediaService
import TestSupport
import Testing
import TusServer

/// An in-process media service on a free loopback port with its own data directory, for one test.
struct MediaTestServer: Sendable {
    let running: RunningMediaService
    let data: TemporaryDirectory
    let apiKey: String?

    var baseURL: URL { running.baseURL }

    /// `BASE/site-media/v1/PATH`.
    func api(_ path: String) -> URL { URL(string: running.apiURL.absoluteString + path)! }

    var authHeaders: [String: String] { apiKey.map { ["Authorization": $0] } ?? [:] }

    /// A management call with a JSON body.
    func call(_ method: String, _ path: String, _ body: Any) async throws -> HTTPTestResponse {
        try await HTTPTestClient.json(method, api(path), body, headers: authHeaders)
    }

    /// A management GET.
    func get(_ path: String) async throws -> HTTPTestResponse {
        try await HTTPTestClient.send("GET", api(path), headers: authHeaders)
    }

    /// generate-upload-url + PUT; returns the descriptor of the answer.
    func uploadPlain(_ bytes: Data, name: String, mimeType: String = "application/octet-stream", extra: [String: Any] = [:]) async throws -> [String: Any] {
        let url = try await uploadURL(name: name, mimeType: mimeType, extra: extra)
        let put = try await HTTPTestClient.send(
            "PUT", URL(string: url + "?filename=" + name.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!)!,
            headers: ["Content-Type": mimeType], body: bytes)
        #expect(put.status == 200, "\(put.text)")
        return try #require(put.json?["file"] as? [String: Any])
    }

    /// A fresh plain upload URL.
    func uploadURL(name: String, mimeType: String = "application/octet-stream", extra: [String: Any] = [:]) async throws -> String {
        var body: [String: Any] = ["mimeType": mimeType, "fileName": name]
        body.merge(extra) { _, b in b }
        let r = try await call("POST", "/files/generate-upload-url", body)
        #expect(r.status == 200, "\(r.text)")
        return try #require(r.json?["uploadUrl"] as? String)
    }

    /// The descriptor of `id`.
    func descriptor(_ id: String) async throws -> [String: Any] {
        let r = try await get("/files/get-file-by-id?fileId=\(id.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
        #expect(r.status == 200, "\(r.text)")
        return try #require(r.json?["file"] as? [String: Any])
    }

    /// Polls until the file's `operationStatus` is not PENDING; returns the descriptor.
    func waitUntilProcessed(_ id: String, timeout: Double = 20) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let d = try await descriptor(id)
            if d["operationStatus"] as? String != "PENDING" { return d }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("file \(id) still PENDING after \(timeout)s")
    }
}

/// Runs `body` with a fresh in-process service, always stopped and cleaned up. `importAllowedAddresses` are
/// addresses imports may reach although they are not public (besides `importAllowPrivate`, which allows all).
func withMediaServer(
    apiKey: String? = nil, processingDelay: Duration = .milliseconds(100), processingFailureRate: Double = 0,
    faults: FaultInjection = .init(), expireAfter: Duration? = nil, webhook: URL? = nil, webhookSecret: String? = nil,
    importAllowPrivate: Bool = false, importAllowedAddresses: Set<String> = [], connectionLimits: ConnectionLimits = .init(),
    logger: Logger = Logger(label: "tusfs.serve"),
    _ body: (MediaTestServer) async throws -> Void
) async throws {
    let data = try TemporaryDirectory("media")
    var configuration = MediaServiceConfiguration(
        port: 0, dataDirectory: URL(fileURLWithPath: data.path), apiKey: apiKey, webhookURL: webhook,
        webhookSecret: webhookSecret, processingDelay: processingDelay, processingFailureRate: processingFailureRate,
        faults: faults, expireAfter: expireAfter, importAllowPrivate: importAllowPrivate, connectionLimits: connectionLimits)
    configuration.importAllowedAddresses = importAllowedAddresses
    let running: RunningMediaService
    do {
        running = try await MediaServer(configuration: configuration, logger: logger).start()
    } catch {
        data.remove()
        throw error
    }
    let test = MediaTestServer(running: running, data: data, apiKey: apiKey)
    do {
        try await body(test)
    } catch {
        await running.stop()
        data.remove()
        throw error
    }
    await running.stop()
    data.remove()
}

let tusHeaders = ["Tus-Resumable": "1.0.0"]
