import BackgroundServices
import Foundation
import Hummingbird
import Logging

/// An HTTP listener of the daemon (`--metrics-listen`, `--webhook-listen`): a Hummingbird application on
/// `HOST:PORT` running in the background until `stop()`.
struct DaemonListener: Sendable {
    private let background: BackgroundService<Int>
    /// `http://HOST:PORT` with the port really bound (port 0 picks one).
    let url: URL

    /// Starts serving `router`; `purpose` names the listener in the error (`metrics`, `webhooks`).
    static func start(host: String, port: Int, router: Router<BasicRequestContext>, purpose: String, logger: Logger)
        async throws -> DaemonListener
    {
        let background: BackgroundService<Int>
        do {
            background = try await BackgroundService<Int>.start(logger: logger) { listening in
                Application(
                    router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
                    onServerRunning: { channel in await listening(channel.localAddress?.port ?? port) }, logger: logger)
            }
        } catch {
            throw MountError("cannot listen for \(purpose) on \(host):\(port): \(error)")
        }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return DaemonListener(background: background, url: URL(string: "http://\(shownHost):\(background.value)")!)
    }

    func stop() async { await background.stop() }
}
