import Foundation
import TusCore

/// An upload as the server knows it: where it lives, how much of it the server has, until when it is kept.
///
/// The upload engine persists `url` in its journal right after `TusUploader.create`, so that after a crash it can
/// call `TusUploader.resume` with it.
public struct TusUpload: Sendable, Equatable {
    /// The upload's own URL (the `Location` of the creation answer, made absolute).
    public var url: URL
    /// Bytes the server has acknowledged (`Upload-Offset`).
    public var offset: Int64
    /// Total size (`Upload-Length`), when known.
    public var length: Int64?
    /// When the server will drop an unfinished upload (`Upload-Expires`), if it said.
    public var expires: Date?
    /// The raw `Upload-Metadata` header the server returned on HEAD, if any.
    public var metadata: String?

    public init(url: URL, offset: Int64, length: Int64?, expires: Date? = nil, metadata: String? = nil) {
        self.url = url
        self.offset = offset
        self.length = length
        self.expires = expires
        self.metadata = metadata
    }

    /// Whether every byte has been acknowledged.
    public var isComplete: Bool { length.map { offset >= $0 } ?? false }

    /// Whether `Upload-Expires` has passed at `now`.
    public func isExpired(at now: Date = Date()) -> Bool { expires.map { $0 <= now } ?? false }
}

/// Bytes the server has acknowledged out of the total; passed to progress handlers.
public struct TusProgress: Sendable, Equatable {
    /// Bytes acknowledged by the server so far (its `Upload-Offset`).
    public var acknowledged: Int64
    /// The upload's total size.
    public var total: Int64

    public init(acknowledged: Int64, total: Int64) {
        self.acknowledged = acknowledged
        self.total = total
    }

    /// `acknowledged / total` in 0...1 (1 for an empty upload).
    public var fraction: Double { total == 0 ? 1 : Double(acknowledged) / Double(total) }
}

/// Called each time the server acknowledges more bytes. Must be quick: it runs on the upload's task.
public typealias TusProgressHandler = @Sendable (TusProgress) -> Void

/// `Upload-Metadata` from a dictionary, with `TusCore`'s encoder (keys checked, values base64).
enum TusMetadataEncoding {
    static func encode(_ metadata: [String: String]) throws(TusError) -> String {
        do {
            return try UploadMetadata(metadata).headerValue
        } catch {
            throw TusError.invalidMetadata(error.description)
        }
    }
}
