import Synchronization

/// Where remote operations (deletes, renames, terminations) wait while the service is unreachable: closed
/// during an outage, opened when the service answers again. Waiting costs nothing (a continuation, no
/// polling), and a cancelled task stops waiting at once.
final class ReachabilityGate: Sendable {
    private struct State {
        var isOpen = true
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var lastID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Closes the gate: callers of ``waitUntilOpen()`` wait from now on.
    func close() {
        state.withLock { $0.isOpen = false }
    }

    /// Opens the gate and lets every waiting caller go.
    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the gate is open, or when the calling task is cancelled.
    func waitUntilOpen() async {
        let id = state.withLock { state in
            state.lastID += 1
            return state.lastID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let goNow = state.withLock { state in
                    // A task cancelled before it got here is let go now: its cancellation handler ran already.
                    if state.isOpen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if goNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
