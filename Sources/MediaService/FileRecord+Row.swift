import Foundation
import GRDB

/// `FileRecord` to and from database rows, by column position.
///
/// Every query of the `file` table selects ``columnList`` (the query interface too, through
/// ``databaseSelection``), so `init(row:)` reads column `i` without looking names up.
extension FileRecord {
    /// The columns, in the order `init(row:)` reads them.
    static let columns = [
        "id", "displayName", "parentFolderId", "hash", "sizeInBytes", "isPrivate", "mediaType", "mimeType",
        "operationStatus", "failureReason", "sourceUrl", "labels", "externalOrigin", "externalIds", "createdAt",
        "updatedAt", "state", "parentBeforeTrash", "crc32",
    ]

    /// ``columns`` as SQL: `"id", "displayName", …`.
    static let columnList = columns.map { "\"\($0)\"" }.joined(separator: ", ")

    static var databaseSelection: [any SQLSelectable] { columns.map { Column($0) } }

    init(row: Row) throws {
        id = try row.decode(atIndex: 0)
        displayName = try row.decode(atIndex: 1)
        parentFolderId = try row.decode(atIndex: 2)
        hash = try row.decode(atIndex: 3)
        sizeInBytes = try row.decode(atIndex: 4)
        isPrivate = try row.decode(atIndex: 5)
        mediaType = try row.decode(atIndex: 6)
        mimeType = try row.decode(atIndex: 7)
        operationStatus = try row.decode(atIndex: 8)
        failureReason = try row.decode(atIndex: 9)
        sourceUrl = try row.decode(atIndex: 10)
        labels = try StringList.decode(try row.decode(atIndex: 11))
        externalOrigin = try row.decode(atIndex: 12)
        externalIds = try StringList.decode(try row.decode(atIndex: 13))
        createdAt = try row.decode(atIndex: 14)
        updatedAt = try row.decode(atIndex: 15)
        state = try row.decode(atIndex: 16)
        parentBeforeTrash = try row.decode(atIndex: 17)
        crc32 = try row.decode(atIndex: 18)
    }

    func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id
        container["displayName"] = displayName
        container["parentFolderId"] = parentFolderId
        container["hash"] = hash
        container["sizeInBytes"] = sizeInBytes
        container["isPrivate"] = isPrivate
        container["mediaType"] = mediaType
        container["mimeType"] = mimeType
        container["operationStatus"] = operationStatus
        container["failureReason"] = failureReason
        container["sourceUrl"] = sourceUrl
        container["labels"] = StringList.encode(labels)
        container["externalOrigin"] = externalOrigin
        container["externalIds"] = StringList.encode(externalIds)
        container["createdAt"] = createdAt
        container["updatedAt"] = updatedAt
        container["state"] = state
        container["parentBeforeTrash"] = parentBeforeTrash
        container["crc32"] = crc32
    }

    /// The values of ``columns``, in order.
    var rowValues: [(any DatabaseValueConvertible)?] {
        [
            id, displayName, parentFolderId, hash, sizeInBytes, isPrivate, mediaType, mimeType, operationStatus,
            failureReason, sourceUrl, StringList.encode(labels), externalOrigin, StringList.encode(externalIds), createdAt,
            updatedAt, state, parentBeforeTrash, crc32,
        ]
    }
}

/// The `labels` and `externalIds` columns: a JSON array of strings, as GRDB's Codable support wrote them.
enum StringList {
    static func decode(_ text: String) throws -> [String] {
        if text == "[]" { return [] }
        return try JSONDecoder().decode([String].self, from: Data(text.utf8))
    }

    static func encode(_ list: [String]) -> String {
        if list.isEmpty { return "[]" }
        // GRDB's JSON encoder configuration, so rows read the same whoever wrote them.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(list)) ?? Data("[]".utf8), as: UTF8.self)
    }
}
