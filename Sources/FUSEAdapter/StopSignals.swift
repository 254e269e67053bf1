import CFuse
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Ends a FUSE session cleanly on SIGINT, SIGTERM or SIGHUP, whichever thread the kernel delivers the
/// signal to, and even when the process started with those signals blocked (as children of some
/// supervisors do).
///
/// The handler only writes the signal number to a pipe (async-signal-safe); a watcher thread reads it,
/// marks the session as exiting and interrupts the loop thread's wait with SIGUSR1.
final class StopSignals: @unchecked Sendable {
    // @unchecked: `session` is set once before the watcher starts and only read after.
    private let session: OpaquePointer
    /// The thread running the session loop, once it runs (not necessarily the one that made the session).
    private let loopThread = Mutex<pthread_t?>(nil)
    private let pipeEnds: [Int32]

    static let stopSignals = [SIGINT, SIGTERM, SIGHUP]

    /// Installs the handlers.
    init(session: OpaquePointer) {
        self.session = session
        var ends: [Int32] = [-1, -1]
        _ = pipe(&ends)
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        pipeEnds = ends
        signalPipeWriteEnd = ends[1]

        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            var byte = UInt8(truncatingIfNeeded: signal)
            _ = write(signalPipeWriteEnd, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: the loop thread's sem_wait must return EINTR
        for number in Self.stopSignals + [SIGUSR1] { sigaction(number, &action, nil) }
        signal(SIGPIPE, SIG_IGN)

        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for number in Self.stopSignals + [SIGUSR1] { sigaddset(&unblocked, number) }
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)

        let watcher = Thread { [self] in self.watch() }
        watcher.name = "tusfs-signals"
        watcher.start()
    }

    private func watch() {
        var byte: UInt8 = 0
        while true {
            let count = read(pipeEnds[0], &byte, 1)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            if byte == UInt8(SIGUSR1) { continue }  // our own wake-up, echoed by the handler
            stop()
        }
    }

    /// Called by the thread that runs the session loop, before it starts.
    func loopStarts() {
        loopThread.withLock { $0 = pthread_self() }
    }

    /// Marks the session as exiting and wakes the loop.
    func stop() {
        fuse_session_exit(session)
        if let thread = loopThread.withLock({ $0 }) { pthread_kill(thread, SIGUSR1) }
    }
}

/// The write end of the signal pipe, read by the async-signal handler. Set once before any handler runs.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1
