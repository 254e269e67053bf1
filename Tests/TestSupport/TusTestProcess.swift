import CLinux
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A server process started by a test with `posix_spawnp`, stopped with SIGKILL.
///
/// Unlike Foundation's `Process`, it resets the child's signal mask and dispositions (a test runner may block
/// SIGTERM, which children would inherit) and never blocks a cooperative thread waiting for the exit.
public final class TusTestProcess: Sendable {
    /// The child's process id.
    public let pid: pid_t

    /// Starts `arguments[0]` (looked up in PATH) with the rest as arguments, in `directory`, with extra
    /// environment variables; stdout and stderr go to `logPath` (or /dev/null).
    public init(
        _ arguments: [String], directory: String? = nil, environment: [String: String] = [:], logPath: String? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let log = logPath ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Descriptors the test process has open (say, a file on a tusfs mount another test is about to
        // unmount) must not live on in a long-running child.
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        // Change directory through a shell: glibc's posix_spawn_file_actions_addchdir_np is not imported.
        let command = directory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + arguments } ?? arguments
        var argv = command.map { strdup($0) } + [nil]
        var envp = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawnp(&child, command[0], &actions, &attributes, &argv, &envp)
        guard rc == 0 else { throw TestFailure("posix_spawnp \(arguments[0]) failed: \(String(cString: strerror(rc)))") }
        pid = child
    }

    /// Whether the process has not exited yet (reaps it if it has).
    public var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Sends `signal` (default SIGKILL) and reaps the process.
    public func stop(signal: Int32 = SIGKILL) {
        guard isRunning else { return }
        kill(pid, signal)
        var status: Int32 = 0
        for _ in 0..<500 {
            if waitpid(pid, &status, WNOHANG) != 0 { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }

    deinit { stop() }
}
