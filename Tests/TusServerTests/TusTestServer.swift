import Foundation
import ServiceLifecycle
import TestSupport
import TusServer

/// A standalone ``TusServer`` on a free loopback port, for one test; `stop()` ends it and removes its files.
final class TusTestServer: Sendable {
    let endpoint: URL
    let server: TusServer
    let storage: TemporaryDirectory
    private let task: Task<Void, any Error>
    private let group: ServiceGroup

    private init(endpoint: URL, server: TusServer, storage: TemporaryDirectory, task: Task<Void, any Error>, group: ServiceGroup) {
        self.endpoint = endpoint
        self.server = server
        self.storage = storage
        self.task = task
        self.group = group
    }

    static func start(
        maxSize: Int64? = 1 << 20, lifetime: Duration? = .seconds(3600), faults: FaultInjection = .init()
    ) async throws -> TusTestServer {
        let storage = try TemporaryDirectory("tus")
        let server = try TusServer(
            configuration: TusServerConfiguration(
                storageDirectory: URL(fileURLWithPath: storage.path), maxSize: maxSize, uploadLifetime: lifetime,
                lockWait: .milliseconds(300), faults: faults))
        let (stream, continuation) = AsyncStream<URL>.makeStream()
        let app = server.standaloneApplication(port: 0, path: "/files") { continuation.yield($0) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: .init(label: "test")))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        for await url in stream {
            return TusTestServer(endpoint: url, server: server, storage: storage, task: task, group: group)
        }
        storage.remove()
        _ = try await task.value
        throw TestFailure("tus server did not start")
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        storage.remove()
    }

    /// The URL of an upload from a `Location` header (absolute path).
    func uploadURL(_ location: String?) throws -> URL {
        guard let location, let url = URL(string: location, relativeTo: endpoint)?.absoluteURL else {
            throw TestFailure("no Location")
        }
        return url
    }

    /// The bytes stored for upload `id`.
    func storedData(_ url: URL) -> Data? {
        FileManager.default.contents(atPath: server.store.dataPath(url.lastPathComponent))
    }
}

/// Runs `body` with a fresh server and always stops it.
func withTusServer(
    maxSize: Int64? = 1 << 20, lifetime: Duration? = .seconds(3600), faults: FaultInjection = .init(),
    _ body: (TusTestServer) async throws -> Void
) async throws {
    let server = try await TusTestServer.start(maxSize: maxSize, lifetime: lifetime, faults: faults)
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

let tus = ["Tus-Resumable": "1.0.0"]

extension Dictionary where Key == String, Value == String {
    func with(_ other: [String: String]) -> [String: String] { merging(other) { _, b in b } }
}
