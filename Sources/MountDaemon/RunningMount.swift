import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tusfs mount in the mount table, and its daemon: what `tusfs unmount` unmounts and waits for.
public struct RunningMount: Sendable {
    /// The mounted directory: absolute, symlinks resolved.
    public let mountpoint: String
    /// The daemon serving the mount, from the pid file in its cache directory; nil when unknown.
    public let daemon: pid_t?

    /// The tusfs mount at `mountpoint` (as `MountpointCheck.resolve` gives it); a one-line error when nothing
    /// or something else is mounted there.
    public init(at mountpoint: String) throws {
        guard let mount = MountTable().mount(at: mountpoint) else { throw MountError("\(mountpoint) is not mounted") }
        guard mount.filesystemType == "fuse.tusfs" else {
            throw MountError("\(mountpoint) is not a tusfs mount (\(mount.filesystemType))")
        }
        self.mountpoint = mountpoint
        daemon = Self.daemonPid(source: mount.source)
    }

    /// Unmounts (`umount2` as root, `fusermount3 -u` otherwise); the daemon then stops its uploads and exits.
    public func unmount() throws {
        if geteuid() == 0 {
            if umount2(mountpoint, 0) == 0 { return }
            if errno == EBUSY { throw MountError("\(mountpoint) is busy: a process is using it") }
            throw MountError("cannot unmount \(mountpoint): \(String(cString: strerror(errno)))")
        }
        guard let fusermount = ExecutableSearch.find("fusermount3") else {
            throw MountError("fusermount3 not found: install the fuse3 package")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: fusermount)
        process.arguments = ["-u", mountpoint]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw MountError("cannot unmount \(mountpoint)") }
    }

    /// Waits until the daemon has exited (at once when it is not known); a one-line error after `timeout` seconds.
    public func waitForDaemonExit(timeout: Double) throws {
        guard let daemon else { return }
        let deadline = Date().addingTimeInterval(timeout)
        while Self.isRunning(daemon) {
            if Date() > deadline { throw MountError("the tusfs daemon (pid \(daemon)) did not exit within \(Int(timeout))s") }
            usleep(20_000)
        }
    }

    /// The source is `tusfs:CACHEDIR`; the daemon wrote its pid there.
    static func daemonPid(source: String) -> pid_t? {
        guard source.hasPrefix("tusfs:") else { return nil }
        let cache = CacheDirectory(path: String(source.dropFirst(6)))
        guard let text = try? String(contentsOfFile: cache.pidFile, encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
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
