import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// How long a connection may sit idle and how many may be open at once: what keeps clients that open
/// connections and send nothing, or half a request, from holding the server's descriptors for ever.
///
/// - ``idleTimeout``: a connection is closed when, while no request is being answered, nothing of a request
///   arrives for this long: a request head that does not complete in time (half-sent headers), a body that stops
///   moving, or a kept-alive connection with no next request. A body that keeps arriving, however slowly, resets
///   the clock with each piece, and a request being answered (processing, a download being written) is never cut.
///   Hummingbird's HTTP/1.1 idle timeout (`HTTP1Channel.Configuration.idleTimeout`).
/// - ``maxConnections``: with this many connections open the server stops accepting; new ones wait in the
///   kernel's listen backlog (256) until one closes, so they cost the process no descriptor. NIO accepts up to 4
///   pending connections in one go, so the count can pass the limit by at most 3. Hummingbird's
///   `MaximumAvailableConnections`.
public struct ConnectionLimits: Sendable, Equatable {
    /// See ``ConnectionLimits``; 30 s by default.
    public var idleTimeout: Duration
    /// See ``ConnectionLimits``; 512 by default.
    public var maxConnections: Int

    /// 30 s: far longer than a client takes to send a request head, short enough that idle connections do not pile up.
    public static let defaultIdleTimeout: Duration = .seconds(30)
    /// 512: half of the usual limit of 1,024 descriptors, leaving the rest for files, uploads and the database.
    public static let defaultMaxConnections = 512

    public init(idleTimeout: Duration = Self.defaultIdleTimeout, maxConnections: Int = Self.defaultMaxConnections) {
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }

    /// The HTTP/1.1 channel configuration with ``idleTimeout``.
    public var http1Configuration: HTTP1Channel.Configuration {
        HTTP1Channel.Configuration(idleTimeout: TimeAmount(idleTimeout))
    }

    /// An application configuration listening on `address` that accepts at most ``maxConnections`` at once.
    public func applicationConfiguration(address: BindAddress, logger: Logger) -> ApplicationConfiguration {
        ApplicationConfiguration(
            address: address, serverName: nil, availableConnectionsDelegate: .maximum(maxConnections, logger: logger))
    }
}
