import Foundation
import TusCore

/// What the server knows about one tus upload; stored as a small JSON record next to its data file.
public struct UploadInfo: Codable, Sendable, Equatable {
    /// The upload's id: 32 lowercase hex digits, the last segment of its URL.
    public let id: String
    /// The total size, or nil while the length is deferred.
    public var length: Int64?
    /// How many bytes the server holds (durably).
    public var offset: Int64
    /// The `Upload-Metadata` header value sent at creation.
    public var metadataHeader: String
    /// When the upload was created.
    public var createdAt: Date
    /// When the unfinished upload expires, or nil for never.
    public var expiresAt: Date?
    /// A tag set by ``TusHooks/authorizeCreation(_:)``: who may touch this upload (e.g. the upload session).
    public var owner: String?

    public init(id: String, length: Int64?, offset: Int64 = 0, metadataHeader: String, createdAt: Date, expiresAt: Date?, owner: String?) {
        self.id = id
        self.length = length
        self.offset = offset
        self.metadataHeader = metadataHeader
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.owner = owner
    }

    /// The parsed metadata (the header was validated when the upload was created).
    public var metadata: UploadMetadata { (try? UploadMetadata.parse(metadataHeader)) ?? UploadMetadata() }

    /// True when every byte has arrived.
    public var isComplete: Bool { length.map { offset == $0 } ?? false }

    /// True when the upload is unfinished and past its expiry.
    public func isExpired(at now: Date) -> Bool {
        guard let expiresAt, !isComplete else { return false }
        return now >= expiresAt
    }

    /// True when `id` has the form of an upload id; anything else never reaches the disk.
    public static func isValidID(_ id: some StringProtocol) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// A fresh random upload id.
    public static func makeID() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }.lowercaseHex
    }
}
