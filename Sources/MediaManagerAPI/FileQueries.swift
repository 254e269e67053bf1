import Foundation

/// Body of `POST /files/get-files`.
public struct GetFileDescriptorsRequest: Codable, Sendable, Equatable {
    /// 1 to 100 file ids.
    public var fileIds: [String]
    public init(fileIds: [String]) { self.fileIds = fileIds }
}

/// Answer of `POST /files/get-files`.
public struct GetFileDescriptorsResponse: Codable, Sendable, Equatable {
    public var files: [FileDescriptor]
    public init(files: [FileDescriptor]) { self.files = files }
}

/// Sort order of a listing.
public enum SortOrder: String, Codable, Sendable {
    case ascending = "ASC"
    case descending = "DESC"
}

/// How to sort a listing: by a field (`displayName`, `createdDate`, `updatedDate`, `sizeInBytes`) and an order.
public struct Sorting: Codable, Sendable, Equatable {
    public var fieldName: String
    public var order: SortOrder?
    public init(fieldName: String, order: SortOrder? = nil) {
        self.fieldName = fieldName
        self.order = order
    }
}

/// Cursor paging of a request: at most `limit` items (≤ 100), starting at `cursor` (from a previous answer).
public struct CursorPaging: Codable, Sendable, Equatable {
    public var limit: Int?
    public var cursor: String?
    public init(limit: Int? = nil, cursor: String? = nil) {
        self.limit = limit
        self.cursor = cursor
    }
}

/// Cursor paging of an answer: `{ "cursors": { "next": "…" }, "hasNext": true }`.
public struct PagingMetadata: Codable, Sendable, Equatable {
    /// The cursors of the answer.
    public struct Cursors: Codable, Sendable, Equatable {
        /// Pass this as `paging.cursor` to get the next page; nil on the last page.
        public var next: String?
        public init(next: String? = nil) { self.next = next }
    }
    public var cursors: Cursors
    /// True when there are more items after this page.
    public var hasNext: Bool
    public init(cursors: Cursors = .init(), hasNext: Bool = false) {
        self.cursors = cursors
        self.hasNext = hasNext
    }
}

/// Answer of `GET /files` and `POST /files/search`.
public struct ListFilesResponse: Codable, Sendable, Equatable {
    public var files: [FileDescriptor]
    public var nextCursor: PagingMetadata?
    public init(files: [FileDescriptor], nextCursor: PagingMetadata? = nil) {
        self.files = files
        self.nextCursor = nextCursor
    }
}

/// The query parameters of `GET /files` (List Files), to and from URL query items.
public struct ListFilesQuery: Sendable, Equatable {
    public var parentFolderId: String?
    public var mediaTypes: [MediaType]
    public var isPrivate: Bool?
    public var sort: Sorting?
    public var paging: CursorPaging

    public init(
        parentFolderId: String? = nil, mediaTypes: [MediaType] = [], isPrivate: Bool? = nil, sort: Sorting? = nil,
        paging: CursorPaging = .init()
    ) {
        self.parentFolderId = parentFolderId
        self.mediaTypes = mediaTypes
        self.isPrivate = isPrivate
        self.sort = sort
        self.paging = paging
    }

    /// `parentFolderId=…&mediaTypes=…&private=…&sort.fieldName=…&sort.order=…&paging.limit=…&paging.cursor=…`.
    public var queryItems: [URLQueryItem] {
        var items: [URLQueryItem] = []
        if let parentFolderId { items.append(.init(name: "parentFolderId", value: parentFolderId)) }
        for type in mediaTypes { items.append(.init(name: "mediaTypes", value: type.rawValue)) }
        if let isPrivate { items.append(.init(name: "private", value: isPrivate ? "true" : "false")) }
        if let sort {
            items.append(.init(name: "sort.fieldName", value: sort.fieldName))
            if let order = sort.order { items.append(.init(name: "sort.order", value: order.rawValue)) }
        }
        if let limit = paging.limit { items.append(.init(name: "paging.limit", value: String(limit))) }
        if let cursor = paging.cursor { items.append(.init(name: "paging.cursor", value: cursor)) }
        return items
    }

    /// Reads the query from URL query items; unknown names are ignored.
    /// - Throws: ``MediaManagerAPIError`` for a value that is not of its field's type.
    public init(queryItems: [URLQueryItem]) throws {
        self.init()
        var sortField: String?
        var sortOrder: SortOrder?
        for item in queryItems {
            let value = item.value ?? ""
            switch item.name {
            case "parentFolderId": parentFolderId = value
            case "mediaTypes":
                mediaTypes += value.split(separator: ",").map { MediaType(rawValue: String($0)) }
            case "private":
                guard let b = Bool(value) else { throw MediaManagerAPIError("private must be true or false") }
                isPrivate = b
            case "sort.fieldName": sortField = value
            case "sort.order":
                guard let o = SortOrder(rawValue: value.uppercased()) else {
                    throw MediaManagerAPIError("sort.order must be ASC or DESC")
                }
                sortOrder = o
            case "paging.limit":
                guard let n = Int(value), n >= 0 else { throw MediaManagerAPIError("paging.limit must be a number") }
                paging.limit = n
            case "paging.cursor": paging.cursor = value
            default: break
            }
        }
        if let sortField { sort = Sorting(fieldName: sortField, order: sortOrder) }
    }
}

/// The top folders a search can start from (`rootFolder`).
public enum RootFolder: String, Codable, Sendable {
    case mediaRoot = "MEDIA_ROOT"
    case trashRoot = "TRASH_ROOT"
    case visitorUploadsRoot = "VISITOR_UPLOADS_ROOT"
}

/// Body of `POST /files/search`.
public struct SearchFilesRequest: Codable, Sendable, Equatable {
    /// Text to look for in display names.
    public var search: String?
    /// Which tree to search (default `MEDIA_ROOT`).
    public var rootFolder: RootFolder?
    public var mediaTypes: [MediaType]?
    public var isPrivate: Bool?
    public var sort: Sorting?
    public var paging: CursorPaging?

    public init(
        search: String? = nil, rootFolder: RootFolder? = nil, mediaTypes: [MediaType]? = nil, isPrivate: Bool? = nil,
        sort: Sorting? = nil, paging: CursorPaging? = nil
    ) {
        self.search = search
        self.rootFolder = rootFolder
        self.mediaTypes = mediaTypes
        self.isPrivate = isPrivate
        self.sort = sort
        self.paging = paging
    }

    enum CodingKeys: String, CodingKey {
        case search, rootFolder, mediaTypes
        case isPrivate = "private"
        case sort, paging
    }
}

/// A request the client built wrongly (e.g. a query value of the wrong type).
public struct MediaManagerAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
