import Foundation

/// A tuspyserver (FastAPI, pip `tuspyserver`) running under uvicorn on a loopback port, for interop tests.
///
/// Start with `start()`, stop with `stop()` in a `defer`. Uploaded files land in `filesDirectory/<uid>`,
/// where `<uid>` is the last path component of the upload URL.
public final class TusPeerServer: Sendable {
    /// The tus endpoint, e.g. `http://127.0.0.1:PORT/files/`.
    public let endpoint: URL
    /// Where tuspyserver stores upload data and `.info` files.
    public let filesDirectory: String
    private let directory: TemporaryDirectory
    private let process: TusTestProcess

    private init(directory: TemporaryDirectory, port: Int, process: TusTestProcess) {
        self.directory = directory
        self.process = process
        self.filesDirectory = directory.appending("files")
        self.endpoint = URL(string: "http://127.0.0.1:\(port)/files/")!
    }

    /// Writes a small FastAPI app mounting tuspyserver's router and starts it with uvicorn.
    public static func start() throws -> TusPeerServer {
        let directory = try TemporaryDirectory("tuspyserver")
        let port = try LoopbackPort.free()
        let filesDirectory = directory.appending("files")
        try FileManager.default.createDirectory(atPath: filesDirectory, withIntermediateDirectories: true)
        let app = """
            import os
            from fastapi import FastAPI
            from tuspyserver import create_tus_router
            app = FastAPI()
            app.include_router(create_tus_router(prefix="files", files_dir=os.environ["TUS_FILES_DIR"]))
            """
        try app.write(toFile: directory.appending("tus_peer_app.py"), atomically: true, encoding: .utf8)
        let process = try TusTestProcess(
            ["python3", "-m", "uvicorn", "tus_peer_app:app", "--host", "127.0.0.1", "--port", "\(port)", "--log-level", "warning"],
            directory: directory.path, environment: ["TUS_FILES_DIR": filesDirectory],
            logPath: directory.appending("uvicorn.log"))
        let server = TusPeerServer(directory: directory, port: port, process: process)
        do {
            try LoopbackPort.waitUntilListening(port, timeout: 30)
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    /// The stored bytes of the upload at `uploadURL`.
    public func storedData(of uploadURL: URL) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: "\(filesDirectory)/\(uploadURL.lastPathComponent)"))
    }

    /// Stops uvicorn and removes its files.
    public func stop() {
        process.stop()
        directory.remove()
    }
}
