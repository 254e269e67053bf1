import Foundation
import GRDB
import MediaManagerAPI

/// A file as stored in the `file` table.
///
/// Read from rows by column index and written column by column (see `FileRecord+Row.swift`), not through
/// Codable: a descriptor is read several times per upload, and the Codable path (a decoder, key lookups by
/// name) was a tenth of the server's CPU per small file.
struct FileRecord: Sendable, FetchableRecord, PersistableRecord {
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
    /// The content's CRC-32 (8 hex digits), computed at processing beside `hash`; sent with downloads. Nil for
    /// files processed before the service computed it.
    var crc32: String? = nil

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
        "\(sitePrefix(siteID))_\(RandomHex.make(bytes: 16))~mv2.\(safeExtension(of: fileName))"
    }

    /// The 6 hex digits that start the ids of site `siteID`: the first hex digits of its base64url form,
    /// lowercased, padded with zeros.
    static func sitePrefix(_ siteID: String) -> String {
        var digits: [UInt8] = []
        for c in Base64URL.encode(Array(siteID.utf8)).utf8 where digits.count < 6 {
            let lower = (65...90).contains(c) ? c + 32 : c  // base64url is ASCII
            if (48...57).contains(lower) || (97...102).contains(lower) { digits.append(lower) }
        }
        while digits.count < 6 { digits.append(UInt8(ascii: "0")) }
        return String(decoding: digits, as: UTF8.self)
    }

    /// The extension of `fileName`, lowercased, when it is 1 to 10 ASCII letters and digits; else `bin`.
    static func safeExtension(of fileName: String) -> String {
        let ext = (fileName as NSString).pathExtension.lowercased()
        return ext.count <= 10 && !ext.isEmpty && ext.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) ? ext : "bin"
    }

    /// The 32 hex digits of a well-formed id, used as the content file's name; nil for anything else.
    /// Well-formed: 6 hex digits, `_`, 32 lowercase hex digits, then nothing or `~mv2.` and ASCII letters and
    /// digits (checked over the UTF-8 bytes: ids arrive with every request).
    static func contentName(of id: String) -> String? {
        let bytes = Array(id.utf8)
        guard bytes.count >= 39, bytes[6] == UInt8(ascii: "_"), bytes[0..<6].allSatisfy(isHexDigit),
            bytes[7..<39].allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else { return nil }
        let tail = bytes[39...]
        guard tail.isEmpty
            || (tail.starts(with: "~mv2.".utf8) && tail.dropFirst(5).allSatisfy({ (48...57).contains($0) || isASCIILetter($0) }))
        else { return nil }
        return String(decoding: bytes[7..<39], as: UTF8.self)
    }

    private static func isHexDigit(_ c: UInt8) -> Bool { (48...57).contains(c) || (97...102).contains(c) || (65...70).contains(c) }
    private static func isASCIILetter(_ c: UInt8) -> Bool { (65...90).contains(c) || (97...122).contains(c) }
}

/// Random lowercase hex digits (ids of files, folders and upload URLs).
enum RandomHex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// `bytes` random bytes as `2 * bytes` hex digits.
    static func make(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String(unsafeUninitializedCapacity: bytes * 2) { out in
            var i = 0
            while i < bytes * 2 {
                var word = generator.next()
                for _ in 0..<min(8, bytes - i / 2) {
                    let byte = Int(word & 0xFF)
                    word >>= 8
                    out[i] = digits[byte >> 4]
                    out[i + 1] = digits[byte & 15]
                    i += 2
                }
            }
            return bytes * 2
        }
    }
}
