import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A server that answers every request with one status (503, or 429 with a `Retry-After`): a service that
/// is up but unavailable, put on a stopped service's port for the length of an outage. It records when each
/// request came (Python `http.server`, no packages); `GET /_requests` (not recorded) lists them as Unix
/// times, one per line.
public final class UnavailableServer: Sendable {
    public let port: Int
    private let directory: TemporaryDirectory
    private let process: TusTestProcess

    private init(port: Int, directory: TemporaryDirectory, process: TusTestProcess) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    /// Starts answering `status` (with `Retry-After: retryAfter` seconds when given) on `port`.
    public static func start(port: Int, status: Int, retryAfter: Int? = nil) throws -> UnavailableServer {
        let directory = try TemporaryDirectory("unavailable")
        try script.write(toFile: directory.appending("unavailable.py"), atomically: true, encoding: .utf8)
        let process = try TusTestProcess(
            ["python3", directory.appending("unavailable.py"), "\(port)", "\(status)", retryAfter.map(String.init) ?? ""],
            logPath: directory.appending("server.log"))
        let server = UnavailableServer(port: port, directory: directory, process: process)
        do { try LoopbackPort.waitUntilListening(port, timeout: 20) } catch {
            server.stop()
            throw error
        }
        return server
    }

    /// When each request came, in seconds since 1970.
    public func requestTimes() async throws -> [Double] {
        let url = URL(string: "http://127.0.0.1:\(port)/_requests")!
        let text = String(decoding: try await URLSession.shared.data(from: url).0, as: UTF8.self)
        return text.split(separator: "\n").compactMap { Double($0) }
    }

    /// Stops the server and frees its port.
    public func stop() {
        process.stop()
        directory.remove()
    }

    private static let script = #"""
    import json, sys, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    port, status, retry_after = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    times, lock = [], threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass

        def answer(self):
            if self.command == "GET" and self.path == "/_requests":
                with lock: body = "\n".join("%.3f" % t for t in times).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            with lock: times.append(time.time())
            body = json.dumps({"message": "the service is unavailable (test)"}).encode()
            self.send_response(status)
            if retry_after: self.send_header("Retry-After", retry_after)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            # The request body is not read: the connection closes after the answer.
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_HEAD = do_DELETE = do_OPTIONS = answer

    class Server(ThreadingHTTPServer):
        allow_reuse_address = True
        daemon_threads = True

    Server(("127.0.0.1", port), Handler).serve_forever()
    """#
}
