import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `tusfs unmount MOUNTPOINT`: unmounts and waits for the daemon to finish.
struct UnmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmount", abstract: "Unmount a tusfs directory and wait for its daemon to exit.")

    @Argument(help: "The mounted directory.")
    var mountpoint: String

    @Option(help: "Seconds to wait for the daemon to exit.")
    var timeout: Double = 60

    func run() throws {
        let path = try MountpointCheck.resolve(mountpoint)
        guard let mount = MountTable().mount(at: path) else { throw CommandError("\(path) is not mounted") }
        guard mount.filesystemType == "fuse.tusfs" else {
            throw CommandError("\(path) is not a tusfs mount (\(mount.filesystemType))")
        }
        let daemon = Self.daemonPid(source: mount.source)
        try Self.unmount(path)
        if let daemon { try Self.waitForExit(daemon, timeout: timeout) }
    }

    static func unmount(_ path: String) throws {
        if geteuid() == 0 {
            if umount2(path, 0) == 0 { return }
            if errno == EBUSY { throw CommandError("\(path) is busy: a process is using it") }
            throw CommandError("cannot unmount \(path): \(String(cString: strerror(errno)))")
        }
        guard let fusermount = ExecutableSearch.find("fusermount3") else {
            throw CommandError("fusermount3 not found: install the fuse3 package")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: fusermount)
        process.arguments = ["-u", path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CommandError("cannot unmount \(path)") }
    }

    /// The source is `tusfs:CACHEDIR`; the daemon wrote its pid there.
    static func daemonPid(source: String) -> pid_t? {
        guard source.hasPrefix("tusfs:") else { return nil }
        let cache = CacheDirectory(path: String(source.dropFirst(6)))
        guard let text = try? String(contentsOfFile: cache.pidFile, encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func waitForExit(_ pid: pid_t, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning(pid) {
            if Date() > deadline { throw CommandError("the tusfs daemon (pid \(pid)) did not exit within \(Int(timeout))s") }
            usleep(20_000)
        }
    }

    /// True while the process exists and is not a zombie (an exited daemon whose new parent never reaps it).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).prefix(1)
        return state != "Z" && state != "X"
    }
}
