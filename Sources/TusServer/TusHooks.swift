import Hummingbird
import TusCore

/// What a creation request asks for, handed to ``TusHooks/authorizeCreation(_:)`` before anything is stored.
public struct UploadCreation: Sendable {
    /// The id the new upload will have.
    public let uploadID: String
    /// `Upload-Length`, or nil when deferred.
    public let length: Int64?
    /// The parsed `Upload-Metadata`.
    public let metadata: UploadMetadata
    /// The path parameters of the route the tus endpoint is mounted under (e.g. an upload session).
    public let parameters: Parameters
}

/// How the service that embeds the tus server takes part in an upload's life.
///
/// All methods have default implementations that allow everything and do nothing.
public protocol TusHooks: Sendable {
    /// Decides whether an upload may be created; throw a ``TusRefusal`` (e.g. `.forbidden`) to refuse.
    /// Returns an owner tag stored with the upload; ``authorizeAccess(to:parameters:)`` can check it later.
    func authorizeCreation(_ creation: UploadCreation) async throws -> String?
    /// Decides whether a HEAD, PATCH or DELETE may touch an existing upload; throw to refuse.
    func authorizeAccess(to upload: UploadInfo, parameters: Parameters) async throws
    /// The largest length an upload created or written through these route parameters may reach (e.g. the size
    /// an upload URL was signed for), besides `Tus-Max-Size`; nil (the default) for no limit of its own. An
    /// `Upload-Length` above it, deferred or not, and a body that would pass it are refused with 413, the body as
    /// soon as it passes.
    func lengthLimit(parameters: Parameters) async throws -> Int64?
    /// Called once when the last byte of an upload has been stored durably.
    func uploadCompleted(_ upload: UploadInfo) async
    /// Called after an upload was terminated with DELETE.
    func uploadTerminated(_ upload: UploadInfo) async
    /// The algorithms of digests of each upload's whole content, computed in the background while its bytes
    /// arrive (``BackgroundDigests``) and recorded with its data file as a ``ContentDigestTag`` once complete; read
    /// them with ``BackgroundDigests/digests(ofFileAt:algorithms:)``. Empty (the default): none.
    var contentDigestAlgorithms: [ChecksumAlgorithm] { get }
}

extension TusHooks {
    public func authorizeCreation(_ creation: UploadCreation) async throws -> String? { nil }
    public func authorizeAccess(to upload: UploadInfo, parameters: Parameters) async throws {}
    public func lengthLimit(parameters: Parameters) async throws -> Int64? { nil }
    public func uploadCompleted(_ upload: UploadInfo) async {}
    public func uploadTerminated(_ upload: UploadInfo) async {}
    public var contentDigestAlgorithms: [ChecksumAlgorithm] { [] }
}

/// Hooks that allow everything: a plain, open tus endpoint.
public struct OpenTusHooks: TusHooks {
    public init() {}
}
