/// Which fields of an update to apply: `{ "paths": ["file.displayName", "file.parentFolderId"] }`.
public struct FieldMask: Codable, Sendable, Equatable {
    public var paths: [String]
    public init(paths: [String]) { self.paths = paths }
}

/// The fields of a file that Update File Descriptor can change.
public struct FileDescriptorUpdate: Codable, Sendable, Equatable {
    /// The file to change.
    public var id: String
    /// A new name.
    public var displayName: String?
    /// A new folder: the file moves there.
    public var parentFolderId: String?
    /// New labels.
    public var labels: [String]?
    public init(id: String, displayName: String? = nil, parentFolderId: String? = nil, labels: [String]? = nil) {
        self.id = id
        self.displayName = displayName
        self.parentFolderId = parentFolderId
        self.labels = labels
    }
}

/// Body of `PATCH /files/update-file-descriptor`. Answered with a ``FileDescriptorResponse``.
///
/// When `fieldMask` is absent, every field present in `file` is applied.
public struct UpdateFileDescriptorRequest: Codable, Sendable, Equatable {
    public var file: FileDescriptorUpdate
    public var fieldMask: FieldMask?
    public init(file: FileDescriptorUpdate, fieldMask: FieldMask? = nil) {
        self.file = file
        self.fieldMask = fieldMask
    }
}

/// Body of `POST /bulk/files/delete`. Answered with `{}`.
public struct BulkDeleteFilesRequest: Codable, Sendable, Equatable {
    public var fileIds: [String]
    /// When false (the default) files move to `trash-root`; when true they are gone for good.
    public var permanent: Bool?
    public init(fileIds: [String], permanent: Bool? = nil) {
        self.fileIds = fileIds
        self.permanent = permanent
    }
}

/// Body of `POST /bulk/folders/delete`. Answered with `{}`.
public struct BulkDeleteFoldersRequest: Codable, Sendable, Equatable {
    public var folderIds: [String]
    public var permanent: Bool?
    public init(folderIds: [String], permanent: Bool? = nil) {
        self.folderIds = folderIds
        self.permanent = permanent
    }
}

/// `{}`: the answer of calls that return nothing.
public struct EmptyResponse: Codable, Sendable, Equatable {
    public init() {}
}

/// Body of `POST /files/{fileId}/generate-download-url`.
public struct GenerateDownloadURLRequest: Codable, Sendable, Equatable {
    /// How long the URL stays valid (default 600 minutes).
    public var expirationInMinutes: Int?
    public init(expirationInMinutes: Int? = nil) { self.expirationInMinutes = expirationInMinutes }
}

/// One download URL.
public struct DownloadURL: Codable, Sendable, Equatable {
    public var url: String
    public var assetKey: String?
    public init(url: String, assetKey: String? = nil) {
        self.url = url
        self.assetKey = assetKey
    }
}

/// Answer of `POST /files/{fileId}/generate-download-url`.
public struct GenerateDownloadURLResponse: Codable, Sendable, Equatable {
    public var downloadUrls: [DownloadURL]
    public init(downloadUrls: [DownloadURL]) { self.downloadUrls = downloadUrls }
}
