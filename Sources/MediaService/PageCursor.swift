import Foundation

/// Cursors of paged listings: an opaque token holding the offset of the next page.
enum PageCursor {
    static func encode(offset: Int) -> String { Base64URL.encode(Data("o:\(offset)".utf8)) }

    static func decode(_ cursor: String?) throws -> Int {
        guard let cursor, !cursor.isEmpty else { return 0 }
        guard let data = Base64URL.decode(cursor), let text = String(data: data, encoding: .utf8), text.hasPrefix("o:"),
            let offset = Int(text.dropFirst(2)), offset >= 0
        else { throw MediaServiceError.invalidArgument("invalid paging.cursor") }
        return offset
    }

    /// The page size: `limit` (default 50) capped at 100.
    static func limit(_ limit: Int?) throws -> Int {
        guard let limit else { return 50 }
        guard limit >= 1 else { throw MediaServiceError.invalidArgument("paging.limit must be between 1 and 100") }
        return min(limit, 100)
    }
}
