import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A minimal tus server (Python `http.server`, no packages) that fails on purpose, for retry tests.
///
/// It keeps uploads in memory and follows a script of faults: each entry is used by the next request of
/// that method and then dropped. Faults:
/// - `"503"`, `"429"`, `"409"`, `"400"`, …: answer that status (with a JSON `message`) and change nothing;
/// - `"429:2"`: answer 429 with `Retry-After: 2`;
/// - `"drop:N"` (PATCH only): keep the first N bytes of the body, then close the connection without answering.
///
/// `X-HTTP-Method-Override` on a POST is honoured (and logged as `override METHOD`).
/// `GET /_log` returns the requests seen so far, one `METHOD offset` per line.
public final class TusFlakyServer: Sendable {
    /// The tus endpoint, e.g. `http://127.0.0.1:PORT/files/`.
    public let endpoint: URL
    private let directory: TemporaryDirectory
    private let process: TusTestProcess

    private init(directory: TemporaryDirectory, port: Int, process: TusTestProcess) {
        self.directory = directory
        self.process = process
        self.endpoint = URL(string: "http://127.0.0.1:\(port)/files/")!
    }

    /// Starts the server with `faults` by method, e.g. `["PATCH": ["503", "drop:1000"]]`.
    /// `extensions` is what OPTIONS advertises.
    public static func start(
        faults: [String: [String]] = [:], extensions: String = "creation,termination,checksum",
        checksumAlgorithms: String = "sha1"
    ) throws -> TusFlakyServer {
        let directory = try TemporaryDirectory("flaky")
        let port = try LoopbackPort.free()
        let faultsJSON = String(decoding: try JSONSerialization.data(withJSONObject: faults), as: UTF8.self)
        try script.write(toFile: directory.appending("flaky.py"), atomically: true, encoding: .utf8)
        let process = try TusTestProcess(
            ["python3", directory.appending("flaky.py"), "\(port)", faultsJSON, extensions, checksumAlgorithms],
            logPath: directory.appending("server.log"))
        let server = TusFlakyServer(directory: directory, port: port, process: process)
        do { try LoopbackPort.waitUntilListening(port, timeout: 20) } catch {
            server.stop()
            throw error
        }
        return server
    }

    /// The requests the server saw, as `METHOD offset` lines (offset `-` where there is none).
    public func requestLog() async throws -> [String] {
        let url = endpoint.deletingLastPathComponent().appendingPathComponent("_log")
        let text = String(decoding: try await URLSession.shared.data(from: url).0, as: UTF8.self)
        return text.split(separator: "\n").map(String.init)
    }

    /// The bytes stored for the upload at `uploadURL`.
    public func storedData(of uploadURL: URL) async throws -> Data {
        let url = endpoint.deletingLastPathComponent().appendingPathComponent("_data/\(uploadURL.lastPathComponent)")
        return try await URLSession.shared.data(from: url).0
    }

    /// Stops the server.
    public func stop() {
        process.stop()
        directory.remove()
    }

    private static let script = #"""
    import base64, hashlib, json, sys, threading, uuid
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    port, faults, extensions, algorithms = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
    uploads, log, lock = {}, [], threading.Lock()

    def next_fault(method):
        with lock:
            queue = faults.get(method) or []
            return queue.pop(0) if queue else None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass

        def reply(self, status, headers=None, body=b""):
            self.send_response(status)
            for k, v in (headers or {}).items(): self.send_header(k, v)
            self.send_header("Tus-Resumable", "1.0.0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body and self.command != "HEAD": self.wfile.write(body)

        def fail(self, fault):
            status, _, retry = fault.partition(":")
            headers = {"Retry-After": retry} if retry else {}
            self.reply(int(status), headers, json.dumps({"message": "injected %s" % status}).encode())

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def uid(self):
            return self.path.rstrip("/").split("/")[-1]

        def record(self, offset="-"):
            with lock: log.append("%s %s" % (self.command, offset))

        def do_GET(self):
            if self.path.endswith("/_log"):
                with lock: text = "\n".join(log).encode()
                return self.reply(200, {}, text)
            if "/_data/" in self.path:
                up = uploads.get(self.uid())
                return self.reply(200, {}, bytes(up["data"])) if up else self.reply(404)
            self.reply(404)

        def do_OPTIONS(self):
            self.record()
            h = {"Tus-Version": "1.0.0", "Tus-Extension": extensions}
            if algorithms: h["Tus-Checksum-Algorithm"] = algorithms
            self.reply(204, h)

        def do_POST(self):
            override = self.headers.get("X-HTTP-Method-Override")
            if override:
                with lock: log.append("override " + override)
                return getattr(self, "do_" + override)()
            self.record()
            self.body()
            fault = next_fault("POST")
            if fault: return self.fail(fault)
            uid = uuid.uuid4().hex
            uploads[uid] = {"length": int(self.headers["Upload-Length"]), "data": bytearray(),
                            "meta": self.headers.get("Upload-Metadata", "")}
            self.reply(201, {"Location": "/files/" + uid})

        def do_HEAD(self):
            self.record()
            fault = next_fault("HEAD")
            if fault: return self.fail(fault)
            up = uploads.get(self.uid())
            if not up: return self.reply(404)
            self.reply(200, {"Upload-Offset": str(len(up["data"])), "Upload-Length": str(up["length"]),
                             "Cache-Control": "no-store"})

        def do_DELETE(self):
            self.record()
            if uploads.pop(self.uid(), None) is None: return self.reply(404)
            self.reply(204)

        def do_PATCH(self):
            up = uploads.get(self.uid())
            offset = int(self.headers.get("Upload-Offset", "-1"))
            self.record(offset)
            fault = next_fault("PATCH")
            n = int(self.headers.get("Content-Length") or 0)
            if fault and fault.startswith("drop:"):
                keep = min(n, int(fault[5:]))
                if up and offset == len(up["data"]): up["data"] += self.rfile.read(keep)
                self.close_connection = True
                self.connection.shutdown(2)
                return
            data = self.rfile.read(n) if n else b""
            if fault: return self.fail(fault)
            if not up: return self.reply(404)
            if offset != len(up["data"]): return self.reply(409, {}, b'{"message":"offset mismatch"}')
            checksum = self.headers.get("Upload-Checksum")
            if checksum:
                alg, _, digest = checksum.partition(" ")
                if alg != "sha1": return self.reply(400)
                if base64.b64encode(hashlib.sha1(data).digest()).decode() != digest:
                    return self.reply(460, {}, b'{"message":"checksum mismatch"}')
            up["data"] += data
            self.reply(204, {"Upload-Offset": str(len(up["data"]))})

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """#
}
