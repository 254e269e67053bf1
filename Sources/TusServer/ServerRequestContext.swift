import Hummingbird
import NIOCore

/// A request context that can reach the connection, so fault injection can cut it.
public protocol ChannelRequestContext: RequestContext {
    /// The connection the request arrived on.
    var channel: any Channel { get }
}

/// The request context of `tusfs serve` and of a standalone ``TusEndpoint``: JSON bodies up to 1 MiB.
public struct ServerRequestContext: ChannelRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// JSON request bodies larger than this are refused with 413.
    public var maxUploadSize: Int { 1 << 20 }
}
