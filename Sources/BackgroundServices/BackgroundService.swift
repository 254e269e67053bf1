import Logging
import ServiceLifecycle

/// A service (an HTTP application) run in a background task: started from async code, which waits until it
/// listens, and stopped gracefully. Runs the embedded media service, the mount's metrics endpoint and the
/// servers of tests.
public final class BackgroundService<Value: Sendable>: Sendable {
    /// What the service reported once it listened (its port, its URL…).
    public let value: Value
    private let task: Task<Void, any Error>
    private let group: ServiceGroup

    private init(value: Value, task: Task<Void, any Error>, group: ServiceGroup) {
        self.value = value
        self.task = task
        self.group = group
    }

    /// Runs the service `make` builds and returns once it listens. `make` gets the function its
    /// application calls once listening (from `onServerRunning`). `whenStopped` runs after the service ended,
    /// however it ended. Throws the service's error when it stops before it listens.
    public static func start(
        logger: Logger, whenStopped: @escaping @Sendable () -> Void = {},
        _ make: (@escaping @Sendable (Value) async -> Void) throws -> any Service
    ) async throws -> BackgroundService {
        let (stream, continuation) = AsyncStream<Value>.makeStream()
        let service = try make { continuation.yield($0) }
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        let task = Task {
            defer {
                continuation.finish()
                whenStopped()
            }
            try await group.run()
        }
        for await value in stream {
            return BackgroundService(value: value, task: task, group: group)
        }
        try await task.value
        throw BackgroundServiceError()
    }

    /// Stops the service gracefully (requests in flight finish) and waits until it has ended.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// A background service ended before it listened, without an error of its own.
public struct BackgroundServiceError: Error, CustomStringConvertible {
    public var description: String { "the service stopped before it listened" }
}
