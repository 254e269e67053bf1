/// Body of `POST /files/import`: the service fetches `url` in the background.
/// Answered with a ``FileDescriptorResponse`` whose `operationStatus` is `PENDING`.
public struct ImportFileRequest: Codable, Sendable, Equatable {
    /// The public http/https URL to fetch (required).
    public var url: String
    public var mediaType: MediaType?
    public var displayName: String?
    public var parentFolderId: String?
    public var isPrivate: Bool?
    public var labels: [String]?
    public var mimeType: String?
    public var externalInfo: ExternalInfo?
    /// A folder path; missing folders are created.
    public var filePath: String?

    public init(
        url: String, mediaType: MediaType? = nil, displayName: String? = nil, parentFolderId: String? = nil,
        isPrivate: Bool? = nil, labels: [String]? = nil, mimeType: String? = nil, externalInfo: ExternalInfo? = nil,
        filePath: String? = nil
    ) {
        self.url = url
        self.mediaType = mediaType
        self.displayName = displayName
        self.parentFolderId = parentFolderId
        self.isPrivate = isPrivate
        self.labels = labels
        self.mimeType = mimeType
        self.externalInfo = externalInfo
        self.filePath = filePath
    }

    enum CodingKeys: String, CodingKey {
        case url, mediaType, displayName, parentFolderId
        case isPrivate = "private"
        case labels, mimeType, externalInfo, filePath
    }
}
