import Foundation

/// A TCP proxy on loopback (Python, no packages) that loses answers on purpose: the first `times` requests whose
/// first line starts with a given prefix (say `POST /upload/tus/`) reach the server, and their answer is thrown
/// away and both connections closed, as when a connection is cut after the server did the work. Everything
/// else passes through unchanged. For HTTP/1.1 clients that send one request at a time on a connection.
public final class AnswerDroppingProxy: Sendable {
    /// `http://127.0.0.1:PORT` of the proxy.
    public let url: URL
    private let directory: TemporaryDirectory
    private let process: TusTestProcess

    private init(directory: TemporaryDirectory, port: Int, process: TusTestProcess) {
        self.directory = directory
        self.process = process
        self.url = URL(string: "http://127.0.0.1:\(port)")!
    }

    /// Starts the proxy on `port`, forwarding to `127.0.0.1:upstreamPort`.
    public static func start(port: Int, upstreamPort: Int, dropping prefix: String, times: Int = 1) throws -> AnswerDroppingProxy {
        let directory = try TemporaryDirectory("dropping-proxy")
        try script.write(toFile: directory.appending("proxy.py"), atomically: true, encoding: .utf8)
        let process = try TusTestProcess(
            ["python3", directory.appending("proxy.py"), "\(port)", "\(upstreamPort)", prefix, "\(times)", directory.appending("dropped")],
            logPath: directory.appending("proxy.log"))
        let proxy = AnswerDroppingProxy(directory: directory, port: port, process: process)
        do { try LoopbackPort.waitUntilListening(port, timeout: 20) } catch {
            proxy.stop()
            throw error
        }
        return proxy
    }

    /// The first lines of the requests whose answers were dropped so far.
    public var dropped: [String] {
        let text = (try? String(contentsOfFile: directory.appending("dropped"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// Stops the proxy.
    public func stop() {
        process.stop()
        directory.remove()
    }

    private static let script = #"""
    import select, socket, sys, threading

    port, upstream, prefix, times, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode(), int(sys.argv[4]), sys.argv[5]
    left, lock = [times], threading.Lock()

    def take(first_line):
        with lock:
            if left[0] <= 0: return False
            left[0] -= 1
            with open(log, "a") as f: f.write(first_line.decode(errors="replace") + "\n")
            return True

    def serve(client):
        server = socket.create_connection(("127.0.0.1", upstream))
        dropping = False
        try:
            while True:
                readable, _, _ = select.select([client, server], [], [])
                if client in readable:
                    data = client.recv(65536)
                    if not data: return
                    if not dropping and data.startswith(prefix) and take(data.split(b"\r\n", 1)[0]):
                        dropping = True
                    server.sendall(data)
                if server in readable:
                    data = server.recv(65536)
                    if not data or dropping: return
                    client.sendall(data)
        except OSError:
            pass
        finally:
            for s in (client, server):
                try: s.shutdown(socket.SHUT_RDWR)
                except OSError: pass
                s.close()

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
    """#
}
