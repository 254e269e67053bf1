import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

extension TusEndpoint {
    /// A Hummingbird application serving only this tus server on `host:port`, its endpoint at `path`
    /// (e.g. `/files`). Run it with `runService()` (stops on SIGINT/SIGTERM) or inside a `ServiceGroup`.
    /// `onListening` gets the endpoint URL once the listener is bound (with the real port for port 0).
    /// `limits` bounds idle connections and how many are open at once.
    public func standaloneApplication(
        host: String = "127.0.0.1", port: Int, path: String = "/files", limits: ConnectionLimits = .init(),
        onListening: @escaping @Sendable (URL) async -> Void = { _ in }
    ) -> some ApplicationProtocol & Service {
        let router = Router(context: ServerRequestContext.self)
        router.middlewares.add(JSONErrorMiddleware())
        addRoutes(to: router.group(RouterPath(path)))
        return Application(
            responder: MethodOverrideResponder(router.buildResponder()),
            server: .http1LargeReads(limits),
            configuration: limits.applicationConfiguration(address: .hostname(host, port: port), logger: logger),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                await onListening(URL(string: "http://\(host):\(bound)\(path)")!)
            },
            logger: logger)
    }
}
