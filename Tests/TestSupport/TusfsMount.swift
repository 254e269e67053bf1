import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real `tusfs mount` of a fresh mountpoint and cache directory, made by running the built binary.
///
/// Always pair with `cleanup()` (or use `withTusfsMount`): it unmounts, even a mount whose daemon died,
/// and removes the directories.
public final class TusfsMount: @unchecked Sendable {
    public let workspace: TemporaryDirectory
    public let mountpoint: String
    public let cache: String
    public let extraArguments: [String]
    /// Variables added to the environment of `tusfs mount`.
    public let environment: [String: String]
    public private(set) var isMounted = false

    /// Creates the directories and mounts.
    public init(_ prefix: String = "mount", extraArguments: [String] = [], environment: [String: String] = [:]) throws {
        workspace = try TemporaryDirectory(prefix)
        mountpoint = workspace.appending("mnt")
        cache = workspace.appending("cache")
        self.extraArguments = extraArguments
        self.environment = environment
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        do {
            try mount()
        } catch {
            workspace.remove()
            throw error
        }
    }

    /// `mountpoint/relative`.
    public func path(_ relative: String) -> String { "\(mountpoint)/\(relative)" }

    /// The backing file of `relative` in the cache.
    public func backingPath(_ relative: String) -> String { "\(cache)/files/\(relative)" }

    public func mount() throws {
        let result = try ProcessRunner.run(
            ProcessRunner.tusfsExecutable, ["mount", mountpoint, "--cache", cache] + extraArguments, environment: environment)
        guard result.succeeded else {
            throw TestFailure("tusfs mount failed (\(result.status)): \(result.stderr)\(result.stdout)")
        }
        isMounted = true
    }

    /// `tusfs unmount`; retried for a few seconds while the mount is busy (a child process that another
    /// test started at the wrong moment may briefly hold a file of this mount open).
    public func unmount() throws {
        var attempts = 0
        while true {
            let result = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["unmount", mountpoint])
            if result.succeeded { break }
            attempts += 1
            guard result.stderr.contains("busy"), attempts < 50 else {
                throw TestFailure("tusfs unmount failed: \(result.stderr)")
            }
            usleep(200_000)
        }
        isMounted = false
    }

    /// The daemon's process id, from the cache.
    public var daemonPid: pid_t? {
        (try? String(contentsOfFile: cache + "/daemon.pid", encoding: .utf8))
            .flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The daemon's command line, as `ps` shows it to every user.
    public var daemonCommandLine: [String] {
        guard let pid = daemonPid, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Unmounts whatever state the mount is in and removes the workspace.
    public func cleanup() {
        if isMounted || MountTable.isMountPoint(mountpoint) {
            if (try? unmount()) == nil {
                _ = try? ProcessRunner.run("umount", ["-l", mountpoint])
                _ = try? ProcessRunner.run("fusermount3", ["-uz", mountpoint])
            }
            if let pid = daemonPid { kill(pid, SIGKILL) }
        }
        workspace.remove()
    }
}

/// Runs `body` with a fresh mount and always cleans it up.
public func withTusfsMount<T>(_ prefix: String = "mount", extraArguments: [String] = [], _ body: (TusfsMount) throws -> T)
    throws -> T
{
    let mount = try TusfsMount(prefix, extraArguments: extraArguments)
    defer { mount.cleanup() }
    return try body(mount)
}

/// `withTusfsMount` for async test bodies.
public func withTusfsMount<T>(
    _ prefix: String = "mount", extraArguments: [String] = [], _ body: (TusfsMount) async throws -> T
) async throws -> T {
    let mount = try TusfsMount(prefix, extraArguments: extraArguments)
    defer { mount.cleanup() }
    return try await body(mount)
}

/// Reads `/proc/self/mountinfo`.
public enum MountTable {
    public static func isMountPoint(_ path: String) -> Bool {
        let text = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4].replacingOccurrences(of: "\\040", with: " ") == path
        }
    }
}
