import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts `tusfs mount --foreground` as a detached daemon and waits until it reports that the mount is
/// ready (or why it failed), so `tusfs mount` returns only when the mount can be used.
public enum BackgroundDaemon {
    /// Starts the daemon with `arguments`, adding `environment` to ours (for secrets, which must not be
    /// arguments: every user sees those in `ps`).
    public static func start(arguments: [String], environment: [String: String] = [:], log: String) throws {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw MountError("pipe: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        // Only the dup2'd copy (fd 3) may reach the daemon, or the pipe would never see end-of-file.
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        let childReadyFd: Int32 = 3

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, childReadyFd)
        // Nothing else of ours may reach the daemon: an inherited pipe (say, the stdout of a shell's
        // `$(tusfs mount ...)`) would never see end-of-file while the daemon lives.
        posix_spawn_file_actions_addclosefrom_np(&actions, childReadyFd + 1)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, tusfs_POSIX_SPAWN_SETSID)

        let executable = "/proc/self/exe"
        let argv = ["tusfs"] + arguments + ["--ready-fd", "\(childReadyFd)"]
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        var variables = ProcessInfo.processInfo.environment
        // A detached daemon is not the service systemd watches: readiness is told by `--foreground` only.
        variables["NOTIFY_SOCKET"] = nil
        for (name, value) in environment { variables[name] = value }
        let cEnvironment = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cEnvironment.forEach { free($0) } }
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, cArguments, cEnvironment)
        close(writeEnd)
        guard spawned == 0 else {
            close(readEnd)
            throw MountError("cannot start the tusfs daemon: \(String(cString: strerror(spawned)))")
        }
        var message = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(readEnd, &buffer, buffer.count)
            if count > 0 {
                message.append(contentsOf: buffer[..<count])
                if message.last == UInt8(ascii: "\n") { break }
                continue
            }
            if count < 0 && errno == EINTR { continue }
            break
        }
        close(readEnd)
        let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text == "ok" { return }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        if text.hasPrefix("error: ") { throw MountError(String(text.dropFirst(7))) }
        throw MountError("the tusfs daemon exited before the mount was ready; see \(log)")
    }
}
