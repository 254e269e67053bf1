import MediaManagerAPI

/// How a file is described to the service when it is uploaded.
public struct MediaUploadOptions: Sendable, Equatable {
    /// The name the file gets on the service (default: the local file's name).
    public var fileName: String?
    /// The MIME type to declare (default: detected by ``MimeTypeDetector``).
    public var mimeType: String?
    /// The folder to upload into (default `media-root`).
    public var parentFolderId: String?
    /// A folder path such as `/videos/2024`; missing folders are created by the service.
    public var filePath: String?
    /// Whether the file is private.
    public var isPrivate: Bool?
    /// Labels to attach.
    public var labels: [String]?
    /// The caller's own reference for the file, echoed in events.
    public var externalInfo: ExternalInfo?

    public init(
        fileName: String? = nil, mimeType: String? = nil, parentFolderId: String? = nil, filePath: String? = nil,
        isPrivate: Bool? = nil, labels: [String]? = nil, externalInfo: ExternalInfo? = nil
    ) {
        self.fileName = fileName
        self.mimeType = mimeType
        self.parentFolderId = parentFolderId
        self.filePath = filePath
        self.isPrivate = isPrivate
        self.labels = labels
        self.externalInfo = externalInfo
    }
}

