import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real `tusfs serve` (with an API key) and a real `tusfs mount --endpoint` uploading to it: the whole
/// bridge as a user runs it. Always call `cleanup()` (in a `defer`): it unmounts and stops the server.
public final class UploadBridgeFixture: @unchecked Sendable {
    public private(set) var server: ServeProcess
    public let mount: TusfsMount
    public let apiKey: String
    /// Holds the key file and the server's data directory.
    private let secrets: TemporaryDirectory
    private var keyFile: String { secrets.appending("api-key") }
    /// Whether the cache is a tmpfs of its own (`moveCacheToTmpfs`), to unmount at `cleanup()`.
    private var cacheOnTmpfs = false

    /// Starts `tusfs serve --api-key-file KEY SERVE_ARGUMENTS…` and mounts with `--endpoint` and the same key
    /// (`--write-back 0.2` unless `mountArguments` says otherwise).
    public init(_ prefix: String, serveArguments: [String] = [], mountArguments: [String] = []) throws {
        secrets = try TemporaryDirectory(prefix + "-key")
        apiKey = "key-" + UUID().uuidString
        let keyFile = secrets.appending("api-key")
        do {
            try Data((apiKey + "\n").utf8).write(to: URL(fileURLWithPath: keyFile))
            chmod(keyFile, 0o600)
            server = try ServeProcess.start(data: secrets.appending("data"), arguments: ["--api-key-file", keyFile] + serveArguments)
        } catch {
            secrets.remove()
            throw error
        }
        do {
            let writeBack = mountArguments.contains("--write-back") ? [] : ["--write-back", "0.2"]
            mount = try TusfsMount(
                prefix, extraArguments: ["--endpoint", server.apiURL.absoluteString, "--api-key-file", keyFile] + writeBack + mountArguments)
        } catch {
            server.stop()
            secrets.remove()
            throw error
        }
    }

    /// The service's data directory (`tusfs serve --data`): its database and the files' contents.
    public var serviceData: String { secrets.appending("data") }

    /// The service's port, kept when it is stopped and started again.
    public var port: Int { server.baseURL.port ?? 0 }

    /// Stops the service and starts it again on the same port with the same data, and `serveArguments`
    /// instead of the first ones (say, without fault injection).
    public func restartServer(serveArguments: [String] = []) throws {
        stopServer()
        try startServer(serveArguments: serveArguments)
    }

    /// Stops the service (an outage); ``startServer(serveArguments:)`` brings it back.
    public func stopServer() {
        server.stop()
    }

    /// Starts the service again on its port with its data, and `serveArguments`.
    public func startServer(serveArguments: [String] = []) throws {
        server = try ServeProcess.start(
            data: secrets.appending("data"),
            arguments: ["--api-key-file", keyFile, "--listen", "127.0.0.1:\(port)"] + serveArguments)
    }

    /// Kills the daemon with SIGKILL and clears the dead mount, leaving the cache as the crash left it.
    public func killDaemon() throws {
        guard let pid = mount.daemonPid else { throw TestFailure("no daemon pid in \(mount.cache)") }
        guard kill(pid, SIGKILL) == 0 else { throw TestFailure("kill \(pid): errno \(errno)") }
        try mount.unmount()  // waits until the daemon is gone, then clears the dead mount
    }

    /// `tusfs wait PATHS… --timeout SECONDS` (default: the whole mount).
    public func wait(_ paths: [String] = [], timeout: Int = 300) throws -> ProcessResult {
        try ProcessRunner.run(
            ProcessRunner.tusfsExecutable, ["wait"] + (paths.isEmpty ? [mount.mountpoint] : paths) + ["--timeout", "\(timeout)"])
    }

    /// Everything the service holds under its media root.
    public func contents() async throws -> ServiceContents {
        try await ServiceContents.list(apiURL: server.apiURL, apiKey: apiKey)
    }

    /// Files in the service's trash.
    public func trashCount() async throws -> Int {
        try await ServiceContents.trashCount(apiURL: server.apiURL, apiKey: apiKey)
    }

    /// The daemon's log (`CACHE/tusfs.log`).
    public var daemonLog: String { (try? String(contentsOfFile: mount.cache + "/tusfs.log", encoding: .utf8)) ?? "" }

    /// Polls `condition` every 100 ms until it holds or `timeout` seconds pass; returns whether it held.
    public static func eventually(timeout: Double = 30, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    /// The value of a status xattr of a file in the mount (`getfattr -n user.tusfs.NAME`), nil when absent.
    public func status(_ relative: String, _ name: String = "state") throws -> String? {
        let result = try ProcessRunner.run("getfattr", ["--only-values", "-n", "user.tusfs." + name, mount.path(relative)])
        return result.succeeded ? result.stdout : nil
    }

    /// Mounts again with the cache on a fresh tmpfs of `size` (`"16m"`), mode 0700: a small disk that fills.
    /// `cleanup()` unmounts it.
    public func moveCacheToTmpfs(size: String) throws {
        try mount.unmount()
        let cache = mount.cache
        try? FileManager.default.removeItem(atPath: cache)
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let tmpfs = try ProcessRunner.run("mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", cache])
        guard tmpfs.succeeded else { throw TestFailure("cannot mount a tmpfs on \(cache): \(tmpfs.stderr)") }
        cacheOnTmpfs = true
        try mount.mount()
    }

    public func cleanup() {
        if cacheOnTmpfs {
            try? mount.unmount()
            _ = try? ProcessRunner.run("umount", ["-l", mount.cache])
        }
        mount.cleanup()
        server.stop()
        secrets.remove()
    }
}
