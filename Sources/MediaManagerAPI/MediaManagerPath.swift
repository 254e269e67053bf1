/// Paths of the Media Manager REST API, relative to the service's base URL
/// (`https://www.wixapis.com/site-media/v1` for the real service, `http://HOST:PORT/site-media/v1` for `tusfs serve`).
public enum MediaManagerPath {
    /// The path prefix of the API on a server: `/site-media/v1`.
    public static let apiPrefix = "/site-media/v1"
    /// `POST`: Generate File Upload URL.
    public static let generateUploadURL = "/files/generate-upload-url"
    /// `POST`: Generate File Resumable Upload URL.
    public static let generateResumableUploadURL = "/files/generate-resumable-upload-url"
    /// `POST`: Import File from a public URL.
    public static let importFile = "/files/import"
    /// `GET ?fileId=ID`: Get File Descriptor.
    public static let getFileByID = "/files/get-file-by-id"
    /// `POST`: Get File Descriptors (up to 100 ids).
    public static let getFiles = "/files/get-files"
    /// `GET` with ``ListFilesQuery``: List Files.
    public static let listFiles = "/files"
    /// `POST`: Search Files.
    public static let searchFiles = "/files/search"
    /// `PATCH`: Update File Descriptor (rename, move, labels).
    public static let updateFileDescriptor = "/files/update-file-descriptor"
    /// `POST`: Bulk Delete Files.
    public static let bulkDeleteFiles = "/bulk/files/delete"
    /// `POST`: Generate download URL of one file.
    public static func generateDownloadURL(fileID: String) -> String { "/files/\(fileID)/generate-download-url" }
    /// `POST` (create) and `GET` (list): folders.
    public static let folders = "/folders"
    /// `GET` / `PATCH`: one folder.
    public static func folder(id: String) -> String { "/folders/\(id)" }
    /// `POST`: Bulk Delete Folders.
    public static let bulkDeleteFolders = "/bulk/folders/delete"
}

/// The ids of the folders every site has.
public enum SpecialFolder {
    /// `media-root`: the top of the media tree, the default parent.
    public static let mediaRoot = "media-root"
    /// `trash-root`: where files and folders deleted without `permanent` go.
    public static let trashRoot = "trash-root"
    /// `visitor-uploads`: files uploaded by site visitors.
    public static let visitorUploads = "visitor-uploads"
}
