import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `tusfs unmount MOUNTPOINT`: unmounts and waits for the daemon to finish; with `--wait`, first waits
/// until nothing is left to upload.
struct UnmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmount", abstract: "Unmount a tusfs directory and wait for its daemon to exit.",
        discussion: """
            With --wait, first waits until no file is pending, uploading, finalizing or failed with a retry \
            scheduled (files the service is still processing, and files failed for good, do not hold it back; \
            the latter are listed on stderr). If --wait-timeout passes first, nothing is unmounted and the \
            exit status is 2.
            """)

    @Argument(help: "The mounted directory.")
    var mountpoint: String

    @Option(help: "Seconds to wait for the daemon to exit.")
    var timeout: Double = 60

    @Flag(help: "Wait until every upload has been sent before unmounting.")
    var wait = false

    @Option(help: ArgumentHelp("With --wait: give up after this many seconds, leaving the mount (default: wait for ever).", valueName: "seconds"))
    var waitTimeout: Double?

    func validate() throws {
        if waitTimeout != nil && !wait { throw ValidationError("--wait-timeout needs --wait") }
        if let waitTimeout, !(waitTimeout >= 0) { throw ValidationError("--wait-timeout must be a number of seconds, 0 or more") }
    }

    func run() throws {
        let path = try MountpointCheck.resolve(mountpoint)
        guard let mount = MountTable().mount(at: path) else { throw CommandError("\(path) is not mounted") }
        guard mount.filesystemType == "fuse.tusfs" else {
            throw CommandError("\(path) is not a tusfs mount (\(mount.filesystemType))")
        }
        let daemon = Self.daemonPid(source: mount.source)
        if wait { try waitForUploads(path) }
        try Self.unmount(path)
        if let daemon { try Self.waitForExit(daemon, timeout: timeout) }
    }

    /// `tusfs wait`'s loop over the whole mount, with the goal "nothing left to send".
    private func waitForUploads(_ path: String) throws {
        guard access(MountStatus.documentPath(root: path), R_OK) == 0 else {
            throw CommandError("cannot wait for uploads: \(path) serves no .tusfs/status.json")
        }
        let root = StatusTarget(argument: path, root: path, relative: "", kind: .directory)
        let outcome = try UploadWait(
            selection: StatusSelection(targets: [root]), goal: .uploaded, timeout: waitTimeout, interval: 0.05,
            showsProgress: isatty(STDERR_FILENO) == 1
        ).run()
        if outcome.timedOut {
            CommandFailure.report(
                WaitCommand.timeoutMessage(outcome, after: waitTimeout ?? 0, settledWord: "uploaded") + "; not unmounted")
            throw ExitCode(WaitCommand.timedOutExitCode)
        }
        for failure in outcome.failed { CommandFailure.report("\(failure.path): failed: \(failure.error)") }
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
