import Foundation
import Hummingbird
import Logging
import TusCore

/// A tus 1.0.0 endpoint, the server side of the protocol: creation (with upload and deferred length), HEAD, PATCH,
/// termination, checksum (sha1, md5, crc32, sha256) and expiration, with uploads streamed to disk by an
/// ``UploadStore``.
///
/// Mount it under any path with ``addRoutes(to:)``: `POST` and `OPTIONS` on the group's path create and describe;
/// `HEAD`, `PATCH`, `DELETE` on `PATH/ID` work on one upload. ``TusHooks`` let the embedding service authorise
/// creation and learn of completed uploads.
public struct TusEndpoint: Sendable {
    /// The extensions this server supports, as advertised by OPTIONS.
    public static let extensions: [TusExtension] = [
        .creation, .creationWithUpload, .creationDeferLength, .expiration, .checksum, .termination,
    ]

    public let configuration: TusServerConfiguration
    public let store: UploadStore
    public let hooks: any TusHooks
    public let metrics: ServerMetrics
    let dropper: ConnectionDropper
    let logger: Logger

    /// Opens the upload store in the configuration's directory.
    public init(
        configuration: TusServerConfiguration, hooks: any TusHooks = OpenTusHooks(), metrics: ServerMetrics = ServerMetrics(),
        logger: Logger = Logger(label: "tusfs.tus-server")
    ) throws {
        self.configuration = configuration
        self.store = try UploadStore(directory: configuration.storageDirectory)
        self.hooks = hooks
        self.metrics = metrics
        self.dropper = ConnectionDropper(dropAfterBytes: configuration.faults.dropAfterBytes)
        self.logger = logger
    }

    /// Registers the tus routes on `group`.
    public func addRoutes<Context: ChannelRequestContext>(to group: RouterGroup<Context>) {
        group.on("", method: .options) { request, _ in self.options(request) }
        group.on(":uploadID", method: .options) { request, _ in self.options(request) }
        group.post("") { request, context in try await self.create(request, context: context) }
        group.head(":uploadID") { request, context in try await self.head(request, context: context) }
        if configuration.servesData {
            group.get(":uploadID") { request, context in try await self.download(request, context: context) }
        }
        group.patch(":uploadID") { request, context in try await self.patch(request, context: context) }
        group.delete(":uploadID") { request, context in try await self.terminate(request, context: context) }
    }
}
