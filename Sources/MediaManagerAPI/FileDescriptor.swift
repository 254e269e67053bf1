import Foundation

/// A file in the Media Manager, as every file call returns it.
///
/// Fields the service may leave out are optional, so the same type decodes answers of the real service and
/// of `tusfs serve`. Dates are kept as the ISO 8601 strings the service sends (see ``createdAt``).
public struct FileDescriptor: Codable, Sendable, Equatable {
    /// The file's id, e.g. `2acbb8_86485e1e5bd84b3f8d0ef9d8c9a1f1a3~mv2.jpeg`.
    public var id: String
    /// The name shown in the Media Manager.
    public var displayName: String?
    /// Where the content can be fetched (a static URL for public files).
    public var url: String?
    /// The folder holding the file (`media-root` by default).
    public var parentFolderId: String?
    /// A hash of the content.
    public var hash: String?
    /// The size in bytes, as a string of digits (see ``size``).
    public var sizeInBytes: String?
    /// Whether the file is private.
    public var isPrivate: Bool?
    /// The kind of media.
    public var mediaType: MediaType?
    /// Type-specific media details (image, video, …); kept as raw JSON.
    public var media: JSONValue?
    /// Where processing stands: `PENDING`, then `READY` or `FAILED`.
    public var operationStatus: OperationStatus?
    /// The URL the file was imported from, if any.
    public var sourceUrl: String?
    /// A thumbnail URL, if any.
    public var thumbnailUrl: String?
    /// Labels attached to the file.
    public var labels: [String]?
    /// When the file was created (ISO 8601).
    public var createdDate: String?
    /// When the descriptor last changed (ISO 8601).
    public var updatedDate: String?
    /// The site the file belongs to.
    public var siteId: String?
    /// `OK`, or `DELETED` for a file in the trash.
    public var state: FileState?

    public init(
        id: String, displayName: String? = nil, url: String? = nil, parentFolderId: String? = nil,
        hash: String? = nil, sizeInBytes: String? = nil, isPrivate: Bool? = nil, mediaType: MediaType? = nil,
        media: JSONValue? = nil, operationStatus: OperationStatus? = nil, sourceUrl: String? = nil,
        thumbnailUrl: String? = nil, labels: [String]? = nil, createdDate: String? = nil,
        updatedDate: String? = nil, siteId: String? = nil, state: FileState? = nil
    ) {
        self.id = id
        self.displayName = displayName
        self.url = url
        self.parentFolderId = parentFolderId
        self.hash = hash
        self.sizeInBytes = sizeInBytes
        self.isPrivate = isPrivate
        self.mediaType = mediaType
        self.media = media
        self.operationStatus = operationStatus
        self.sourceUrl = sourceUrl
        self.thumbnailUrl = thumbnailUrl
        self.labels = labels
        self.createdDate = createdDate
        self.updatedDate = updatedDate
        self.siteId = siteId
        self.state = state
    }

    enum CodingKeys: String, CodingKey {
        case id, displayName, url, parentFolderId, hash, sizeInBytes
        case isPrivate = "private"
        case mediaType, media, operationStatus, sourceUrl, thumbnailUrl, labels, createdDate, updatedDate, siteId, state
    }

    /// ``sizeInBytes`` as a number, or nil when absent or not a number.
    public var size: Int64? { sizeInBytes.flatMap { Int64($0) } }

    /// ``createdDate`` parsed, or nil.
    public var createdAt: Date? { createdDate.flatMap(ISO8601.parse) }

    /// ``updatedDate`` parsed, or nil.
    public var updatedAt: Date? { updatedDate.flatMap(ISO8601.parse) }
}

/// The kind of a media file (`mediaType`). Values the service adds later decode too.
public struct MediaType: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let unknown = MediaType(rawValue: "UNKNOWN")
    public static let image = MediaType(rawValue: "IMAGE")
    public static let video = MediaType(rawValue: "VIDEO")
    public static let audio = MediaType(rawValue: "AUDIO")
    public static let document = MediaType(rawValue: "DOCUMENT")
    public static let vector = MediaType(rawValue: "VECTOR")
    public static let archive = MediaType(rawValue: "ARCHIVE")
    public static let model3d = MediaType(rawValue: "MODEL3D")
    public static let other = MediaType(rawValue: "OTHER")
}

/// Where processing of an uploaded file stands (`operationStatus`).
public struct OperationStatus: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Uploaded or imported; processing still runs. The file is not usable yet.
    public static let pending = OperationStatus(rawValue: "PENDING")
    /// Processed and usable.
    public static let ready = OperationStatus(rawValue: "READY")
    /// Processing failed; the file will not become usable.
    public static let failed = OperationStatus(rawValue: "FAILED")
}

/// Whether a file or folder is live or in the trash (`state`).
public struct FileState: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let ok = FileState(rawValue: "OK")
    public static let deleted = FileState(rawValue: "DELETED")
}

/// Information about where a file came from, kept with it and echoed in webhooks (`externalInfo`).
public struct ExternalInfo: Codable, Sendable, Equatable {
    /// The app or system that created the file.
    public var origin: String?
    /// Ids of the file in that system.
    public var externalIds: [String]?
    public init(origin: String? = nil, externalIds: [String]? = nil) {
        self.origin = origin
        self.externalIds = externalIds
    }
}

/// `{ "file": FileDescriptor }`: the answer of upload, finalize, import, get-file-by-id and update calls.
public struct FileDescriptorResponse: Codable, Sendable, Equatable {
    public var file: FileDescriptor
    public init(file: FileDescriptor) { self.file = file }
}

/// ISO 8601 dates as the service writes them (`2024-01-31T12:00:00.000Z`, fractional seconds optional).
public enum ISO8601 {
    /// Formats `date` with milliseconds, UTC.
    public static func format(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }

    /// Parses a date with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return d }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}
