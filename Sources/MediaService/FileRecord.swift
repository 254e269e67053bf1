import Foundation
import GRDB
import MediaManagerAPI

/// A file as stored in the `file` table.
struct FileRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "file"

    var id: String
    var displayName: String
    var parentFolderId: String
    var hash: String?
    var sizeInBytes: Int64
    var isPrivate: Bool
    var mediaType: String
    var mimeType: String
    var operationStatus: String
    var failureReason: String?
    var sourceUrl: String?
    var labels: [String]
    var externalOrigin: String?
    var externalIds: [String]
    var createdAt: Double
    var updatedAt: Double
    var state: String
    /// Where the file sat before it was moved to the trash.
    var parentBeforeTrash: String?

    /// The public descriptor, with `url` built on `baseURL`.
    func descriptor(baseURL: String, siteID: String) -> FileDescriptor {
        FileDescriptor(
            id: id, displayName: displayName, url: "\(baseURL)/media/\(id)", parentFolderId: parentFolderId, hash: hash,
            sizeInBytes: String(sizeInBytes), isPrivate: isPrivate, mediaType: MediaType(rawValue: mediaType),
            media: nil, operationStatus: OperationStatus(rawValue: operationStatus), sourceUrl: sourceUrl,
            thumbnailUrl: nil, labels: labels, createdDate: ISO8601.format(Date(timeIntervalSince1970: createdAt)),
            updatedDate: ISO8601.format(Date(timeIntervalSince1970: updatedAt)), siteId: siteID,
            state: FileState(rawValue: state))
    }

    var externalInfo: ExternalInfo? {
        externalOrigin == nil && externalIds.isEmpty ? nil : ExternalInfo(origin: externalOrigin, externalIds: externalIds)
    }

    /// The name of the content file under `DATA/content/` (derived from the validated id only).
    var contentName: String { FileID.contentName(of: id) ?? "invalid" }
}

/// A folder as stored in the `folder` table.
struct FolderRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "folder"

    var id: String
    var displayName: String
    var parentFolderId: String
    var createdAt: Double
    var updatedAt: Double
    var state: String
    var parentBeforeTrash: String?

    var folder: Folder {
        Folder(
            id: id, displayName: displayName, parentFolderId: parentFolderId,
            createdDate: ISO8601.format(Date(timeIntervalSince1970: createdAt)),
            updatedDate: ISO8601.format(Date(timeIntervalSince1970: updatedAt)), state: FileState(rawValue: state))
    }
}

/// One upload URL's single-use record: which tus upload its token created, and which file it became.
struct UploadURLRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "uploadURL"
    var nonce: String
    var uploadId: String?
    var fileId: String?
}

/// File ids in the form the real service uses: `SITE6_32HEX~mv2.EXT`.
enum FileID {
    static func make(siteID: String, fileName: String) -> String {
        let site = String(Base64URL.encode(Data(siteID.utf8)).lowercased().filter(\.isHexDigit).prefix(6))
            .padding(toLength: 6, withPad: "0", startingAt: 0)
        let hex = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let ext = (fileName as NSString).pathExtension.lowercased()
        let safeExt = ext.count <= 10 && !ext.isEmpty && ext.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) ? ext : "bin"
        return "\(site)_\(hex)~mv2.\(safeExt)"
    }

    /// The 32 hex digits of a well-formed id, used as the content file's name; nil for anything else.
    static func contentName(of id: String) -> String? {
        let parts = id.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 6, parts[0].allSatisfy(\.isHexDigit) else { return nil }
        let rest = parts[1]
        let hex = rest.prefix(32)
        guard hex.count == 32, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        let tail = rest.dropFirst(32)
        guard tail.isEmpty || (tail.hasPrefix("~mv2.") && tail.dropFirst(5).allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })) else {
            return nil
        }
        return String(hex)
    }
}
