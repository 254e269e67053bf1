/// Body of `POST /files/generate-upload-url`.
public struct GenerateFileUploadURLRequest: Codable, Sendable, Equatable {
    /// The MIME type of the file (required, at most 100 characters).
    public var mimeType: String
    /// The file's name (at most 200 characters).
    public var fileName: String?
    /// The size in bytes, as a string of digits.
    public var sizeInBytes: String?
    /// The folder to put the file in (default `media-root`).
    public var parentFolderId: String?
    /// Whether the file is private.
    public var isPrivate: Bool?
    /// Labels for the file.
    public var labels: [String]?
    /// Where the file comes from.
    public var externalInfo: ExternalInfo?
    /// A folder path such as `/videos/2024`; missing folders are created. Overrides `parentFolderId`.
    public var filePath: String?

    public init(
        mimeType: String, fileName: String? = nil, sizeInBytes: String? = nil, parentFolderId: String? = nil,
        isPrivate: Bool? = nil, labels: [String]? = nil, externalInfo: ExternalInfo? = nil, filePath: String? = nil
    ) {
        self.mimeType = mimeType
        self.fileName = fileName
        self.sizeInBytes = sizeInBytes
        self.parentFolderId = parentFolderId
        self.isPrivate = isPrivate
        self.labels = labels
        self.externalInfo = externalInfo
        self.filePath = filePath
    }

    enum CodingKeys: String, CodingKey {
        case mimeType, fileName, sizeInBytes, parentFolderId
        case isPrivate = "private"
        case labels, externalInfo, filePath
    }
}

/// Answer of `POST /files/generate-upload-url`: `PUT` the bytes to `uploadUrl?filename=NAME`.
public struct GenerateFileUploadURLResponse: Codable, Sendable, Equatable {
    /// Where to `PUT` the file; no auth header needed (the URL is the credential).
    public var uploadUrl: String
    public init(uploadUrl: String) { self.uploadUrl = uploadUrl }
}

/// The protocol of a resumable upload URL (`uploadProtocol`).
public struct UploadProtocol: RawRepresentable, Codable, Sendable, Hashable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// tus 1.0.0.
    public static let tus = UploadProtocol(rawValue: "TUS")
}

/// Body of `POST /files/generate-resumable-upload-url`: the fields of ``GenerateFileUploadURLRequest`` plus the protocol.
public struct GenerateFileResumableUploadURLRequest: Codable, Sendable, Equatable {
    public var mimeType: String
    public var fileName: String?
    public var sizeInBytes: String?
    public var parentFolderId: String?
    public var isPrivate: Bool?
    public var labels: [String]?
    public var externalInfo: ExternalInfo?
    public var filePath: String?
    /// `TUS`.
    public var uploadProtocol: UploadProtocol?

    public init(
        mimeType: String, fileName: String? = nil, sizeInBytes: String? = nil, parentFolderId: String? = nil,
        isPrivate: Bool? = nil, labels: [String]? = nil, externalInfo: ExternalInfo? = nil, filePath: String? = nil,
        uploadProtocol: UploadProtocol? = .tus
    ) {
        self.mimeType = mimeType
        self.fileName = fileName
        self.sizeInBytes = sizeInBytes
        self.parentFolderId = parentFolderId
        self.isPrivate = isPrivate
        self.labels = labels
        self.externalInfo = externalInfo
        self.filePath = filePath
        self.uploadProtocol = uploadProtocol
    }

    enum CodingKeys: String, CodingKey {
        case mimeType, fileName, sizeInBytes, parentFolderId
        case isPrivate = "private"
        case labels, externalInfo, filePath, uploadProtocol
    }

    /// The same fields as a plain upload-URL request.
    public var plain: GenerateFileUploadURLRequest {
        GenerateFileUploadURLRequest(
            mimeType: mimeType, fileName: fileName, sizeInBytes: sizeInBytes, parentFolderId: parentFolderId,
            isPrivate: isPrivate, labels: labels, externalInfo: externalInfo, filePath: filePath)
    }
}

/// Answer of `POST /files/generate-resumable-upload-url`.
///
/// Use `uploadUrl` as the tus endpoint, with tus metadata `filename`, `contentType` and `token` (= `uploadToken`);
/// then finalize with `PUT {uploadUrl}/{uploadToken}?filename=NAME` and an empty body.
public struct GenerateFileResumableUploadURLResponse: Codable, Sendable, Equatable {
    /// `TUS`.
    public var uploadProtocol: UploadProtocol
    /// The tus endpoint (creation POST goes here).
    public var uploadUrl: String
    /// Single-use token, bound to the one upload created with it.
    public var uploadToken: String
    public init(uploadProtocol: UploadProtocol = .tus, uploadUrl: String, uploadToken: String) {
        self.uploadProtocol = uploadProtocol
        self.uploadUrl = uploadUrl
        self.uploadToken = uploadToken
    }
}

/// The tus metadata keys a resumable Media Manager upload must carry.
public enum ResumableUploadMetadataKey {
    /// The file's name.
    public static let filename = "filename"
    /// The file's MIME type.
    public static let contentType = "contentType"
    /// The `uploadToken` of the resumable upload URL.
    public static let token = "token"
}
