import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `tusfs serve` (the built binary) on a loopback port with its data in a temporary directory.
///
/// Start with `start(arguments:)`, stop with `stop()` in a `defer`.
public final class TusServeProcess: Sendable {
    /// `http://127.0.0.1:PORT`.
    public let baseURL: URL
    /// The Media Manager API base, `http://127.0.0.1:PORT/site-media/v1`.
    public var apiURL: URL { baseURL.appendingPathComponent("site-media/v1") }
    /// The server's log (stdout and stderr).
    public let logPath: String
    private let directory: TemporaryDirectory
    private let process: TusTestProcess

    private init(baseURL: URL, directory: TemporaryDirectory, process: TusTestProcess) {
        self.baseURL = baseURL
        self.directory = directory
        self.process = process
        self.logPath = directory.appending("serve.log")
    }

    /// Starts `tusfs serve --listen 127.0.0.1:PORT --data DIR` plus `arguments` (e.g. fault injection).
    public static func start(arguments: [String] = []) throws -> TusServeProcess {
        let directory = try TemporaryDirectory("serve")
        let port = try LoopbackPort.free()
        let process = try TusTestProcess(
            [ProcessRunner.tusfsExecutable, "serve", "--listen", "127.0.0.1:\(port)", "--data", directory.appending("data")]
                + arguments,
            logPath: directory.appending("serve.log"))
        let server = TusServeProcess(baseURL: URL(string: "http://127.0.0.1:\(port)")!, directory: directory, process: process)
        do { try LoopbackPort.waitUntilListening(port, timeout: 30) } catch {
            let log = (try? String(contentsOfFile: server.logPath, encoding: .utf8)) ?? ""
            server.stop()
            throw TestFailure("tusfs serve did not start: \(error)\n\(log)")
        }
        return server
    }

    /// The Prometheus text of `GET /metrics`.
    public func metrics() async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: baseURL.appendingPathComponent("metrics"))
        return String(decoding: data, as: UTF8.self)
    }

    /// The sum of every sample of `name` in `/metrics` (all label sets).
    public func metric(_ name: String) async throws -> Double {
        try await metrics().split(separator: "\n").reduce(0) { sum, line in
            guard line.hasPrefix(name), !line.hasPrefix("#") else { return sum }
            let rest = line.dropFirst(name.count)
            guard rest.first == " " || rest.first == "{" else { return sum }
            return sum + (line.split(separator: " ").last.flatMap { Double($0) } ?? 0)
        }
    }

    /// Stops the server and removes its data.
    public func stop() {
        process.stop()
        directory.remove()
    }
}
