import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A `tusfs serve` child process on a free loopback port, for tests that exercise the command line.
///
/// Start it with ``start(data:arguments:)``; always call ``stop()`` (in a `defer`), which sends SIGTERM and
/// waits for the exit status.
public final class ServeProcess: @unchecked Sendable {
    /// `http://127.0.0.1:PORT`, as printed by the server.
    public let baseURL: URL
    /// The data directory passed with `--data`.
    public let dataDirectory: String
    private let process: Process
    private let stderrFile: String
    /// A temporary directory made by `start(arguments:)`, removed by `stop()`.
    private var ownedDirectory: TemporaryDirectory?

    private init(baseURL: URL, dataDirectory: String, process: Process, stderrFile: String) {
        self.baseURL = baseURL
        self.dataDirectory = dataDirectory
        self.process = process
        self.stderrFile = stderrFile
    }

    /// Starts `tusfs serve` with its data in a new temporary directory, which `stop()` removes.
    public static func start(arguments: [String] = [], environment: [String: String] = [:]) throws -> ServeProcess {
        let directory = try TemporaryDirectory("serve")
        do {
            let server = try start(data: directory.appending("data"), arguments: arguments, environment: environment)
            server.ownedDirectory = directory
            return server
        } catch {
            directory.remove()
            throw error
        }
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

    /// `baseURL/site-media/v1`.
    public var apiURL: URL { baseURL.appendingPathComponent("site-media/v1") }

    /// Starts `tusfs serve --listen 127.0.0.1:0 --data DATA ARGUMENTS…` and waits for its `listening on` line.
    /// `environment` is added to the test's own.
    public static func start(
        data: String, arguments: [String] = [], environment: [String: String] = [:], timeout: Double = 30
    ) throws -> ServeProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessRunner.tusfsExecutable)
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--data", data] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe()
        let stderrFile = "\(data).serve-stderr.log"
        _ = FileManager.default.createFile(atPath: stderrFile, contents: nil)
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: stderrFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read the first stdout line on a background thread, so a server that never prints cannot hang the test.
        let line = LockedLine()
        let reader = out.fileHandleForReading
        Thread.detachNewThread {
            var bytes = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                bytes.append(chunk)
                if bytes.contains(UInt8(ascii: "\n")) { break }
            }
            line.set(String(decoding: bytes, as: UTF8.self))
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, line.get() == nil, process.isRunning { usleep(20_000) }
        usleep(20_000)
        guard let text = line.get(), let range = text.range(of: "listening on ") else {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            let log = (try? String(contentsOfFile: stderrFile, encoding: .utf8)) ?? ""
            throw TestFailure("tusfs serve did not start: \(log.suffix(2000))")
        }
        let urlText = text[range.upperBound...].split(separator: "\n").first.map(String.init) ?? ""
        guard let url = URL(string: urlText.trimmingCharacters(in: .whitespaces)) else {
            throw TestFailure("bad listening line: \(text)")
        }
        return ServeProcess(baseURL: url, dataDirectory: data, process: process, stderrFile: stderrFile)
    }

    /// True while the process runs.
    public var isRunning: Bool { process.isRunning }

    /// What the server logged so far.
    public var log: String { (try? String(contentsOfFile: stderrFile, encoding: .utf8)) ?? "" }

    /// Sends SIGTERM, waits for the exit, and returns the exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: stderrFile)
        ownedDirectory?.remove()
        return process.terminationStatus
    }
}

private final class LockedLine: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?
    func set(_ v: String) { lock.lock(); value = v; lock.unlock() }
    func get() -> String? { lock.lock(); defer { lock.unlock() }; return value }
}
