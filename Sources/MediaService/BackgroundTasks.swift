import Foundation
import Synchronization

/// The service's background work (processing, imports, webhooks), so a stop can cancel what is still pending
/// instead of letting it write into a data directory that may be gone.
final class BackgroundTasks: Sendable {
    private struct State {
        var tasks: [UUID: Task<Void, Never>] = [:]
        var stopped = false
    }
    private let state = Mutex(State())

    /// Runs `work` in a new task, unless the service stopped.
    func run(_ work: @escaping @Sendable () async -> Void) {
        let id = UUID()
        state.withLock { state in
            guard !state.stopped else { return }
            state.tasks[id] = Task {
                await work()
                _ = self.state.withLock { $0.tasks.removeValue(forKey: id) }
            }
        }
    }

    /// Cancels every pending task and refuses new ones.
    func cancelAll() {
        let tasks = state.withLock { state in
            state.stopped = true
            defer { state.tasks = [:] }
            return Array(state.tasks.values)
        }
        for task in tasks { task.cancel() }
    }
}
