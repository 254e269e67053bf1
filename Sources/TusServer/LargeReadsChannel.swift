import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// A server child channel (HTTP/1.1, possibly under TLS) whose socket reads may grow to
/// ``maximumReadSize`` bytes, where NIO's default stops at 64 KiB.
///
/// Every read is a trip through the channel pipeline (HTTP decoder, Hummingbird's request body stream, a task
/// wake-up of the handler that writes the bytes to disk), so a 1 GiB upload in 64 KiB reads costs 16,384 trips.
/// Measured with `Scripts/bench-upload.sh` (1 GiB tus upload on loopback, 2 cores): with 1 MiB reads the upload
/// took 1.16–1.24 s instead of 1.54–1.97 s, and the server's CPU fell from 2.07 to 1.43 s per GiB. Reads start
/// small (2 KiB) and only grow while they come back full, so API calls and small uploads keep small buffers.
public struct LargeReadsChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value

    /// The largest socket read, in bytes.
    public static var maximumReadSize: Int { 1 << 20 }

    let base: Base

    /// Wraps `base`, whose setup runs after the read size is raised.
    public init(_ base: Base) { self.base = base }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.setOption(
            ChannelOptions.recvAllocator,
            value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: Self.maximumReadSize)
        ).flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// Plain HTTP/1.1 with socket reads of up to ``LargeReadsChannel/maximumReadSize`` bytes (for servers that
    /// receive large request bodies), closing connections idle for ``ConnectionLimits/idleTimeout``.
    public static func http1LargeReads(_ limits: ConnectionLimits = .init()) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            LargeReadsChannel(HTTP1Channel(responder: responder, configuration: limits.http1Configuration))
        }
    }
}
