import BackgroundServices
import Foundation
import TestSupport
import TusServer

/// A standalone ``TusEndpoint`` on a free loopback port, for one test; `stop()` ends it and removes its files.
final class TusTestServer: Sendable {
    let endpoint: URL
    let server: TusEndpoint
    let storage: TemporaryDirectory
    private let background: BackgroundService<URL>

    private init(server: TusEndpoint, storage: TemporaryDirectory, background: BackgroundService<URL>) {
        self.endpoint = background.value
        self.server = server
        self.storage = storage
        self.background = background
    }

    static func start(
        maxSize: Int64? = 1 << 20, lifetime: Duration? = .seconds(3600), faults: FaultInjection = .init(),
        limits: ConnectionLimits = .init(), servesData: Bool = true
    ) async throws -> TusTestServer {
        let storage = try TemporaryDirectory("tus")
        let server = try TusEndpoint(
            configuration: TusServerConfiguration(
                storageDirectory: URL(fileURLWithPath: storage.path), maxSize: maxSize, uploadLifetime: lifetime,
                lockWait: .milliseconds(300), faults: faults, servesData: servesData))
        do {
            let background = try await BackgroundService<URL>.start(logger: .init(label: "test")) { listening in
                server.standaloneApplication(port: 0, path: "/files", limits: limits) { await listening($0) }
            }
            return TusTestServer(server: server, storage: storage, background: background)
        } catch {
            storage.remove()
            throw error
        }
    }

    func stop() async {
        await background.stop()
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
    limits: ConnectionLimits = .init(), servesData: Bool = true, _ body: (TusTestServer) async throws -> Void
) async throws {
    let server = try await TusTestServer.start(
        maxSize: maxSize, lifetime: lifetime, faults: faults, limits: limits, servesData: servesData)
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
