import AsyncHTTPClient
import Foundation
import Logging
import MediaManagerAPI
import NIOCore
import NIOHTTP1
import TusClient

/// A client of the Media Manager REST API (`site-media/v1`): uploads (plain and resumable), file descriptors,
/// folders and imports.
///
/// Works the same against the real service and against `tusfs serve`. Management calls carry the credentials;
/// upload URLs carry none. Calls are retried on network errors, 408, 429 and 5xx as ``RequestRetryPolicy`` says.
public final class MediaManagerClient: Sendable {
    /// Files at least this large go through the resumable (tus) flow; smaller ones by one PUT.
    public static let resumableThreshold: Int64 = 10 * 1024 * 1024

    /// The API base, e.g. `https://www.wixapis.com/site-media/v1`.
    public let baseURL: URL
    /// The tus client used for resumable uploads.
    public let tus: TusUploader
    /// Finds MIME types for uploads that do not name one.
    public let mimeTypes: MimeTypeDetector
    let credentials: MediaManagerCredentials
    let httpClient: HTTPClient
    let retryPolicy: RequestRetryPolicy
    let requestTimeout: Duration
    let logger: Logger

    /// - Parameters:
    ///   - endpoint: the API base. A bare `http://host:port` gets `/site-media/v1` appended.
    ///   - credentials: API key and site id for management calls.
    ///   - httpClient: the HTTP client; its owner shuts it down.
    ///   - tus: the tus client for resumable uploads (default: one on the same HTTP client).
    public init(
        endpoint: URL, credentials: MediaManagerCredentials = .init(), httpClient: HTTPClient = .shared,
        tus: TusUploader? = nil, mimeTypes: MimeTypeDetector = .shared, retryPolicy: RequestRetryPolicy = .default,
        requestTimeout: Duration = .seconds(600), logger: Logger = Logger(label: "tusfs.media-manager-client")
    ) {
        self.baseURL = Self.apiBase(endpoint)
        self.credentials = credentials
        self.httpClient = httpClient
        self.tus = tus ?? TusUploader(httpClient: httpClient, logger: logger)
        self.mimeTypes = mimeTypes
        self.retryPolicy = retryPolicy
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    static func apiBase(_ endpoint: URL) -> URL {
        var text = endpoint.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        if !text.hasSuffix(MediaManagerPath.apiPrefix) { text += MediaManagerPath.apiPrefix }
        return URL(string: text)!
    }

    // MARK: - Files

    /// Get File Descriptor.
    public func file(id: String) async throws -> MediaManagerAPI.FileDescriptor {
        let response: FileDescriptorResponse = try await call(
            .GET, MediaManagerPath.getFileByID, query: [URLQueryItem(name: "fileId", value: id)])
        return response.file
    }

    /// Get File Descriptors (1 to 100 ids).
    public func files(ids: [String]) async throws -> [MediaManagerAPI.FileDescriptor] {
        let response: GetFileDescriptorsResponse = try await call(
            .POST, MediaManagerPath.getFiles, body: GetFileDescriptorsRequest(fileIds: ids))
        return response.files
    }

    /// List Files: one page; pass `nextCursor.cursors.next` as `query.paging.cursor` for the next.
    public func listFiles(_ query: ListFilesQuery = .init()) async throws -> ListFilesResponse {
        try await call(.GET, MediaManagerPath.listFiles, query: query.queryItems)
    }

    /// Every file matching `query`, following cursors until the last page.
    public func allFiles(_ query: ListFilesQuery = .init()) async throws -> [MediaManagerAPI.FileDescriptor] {
        var query = query
        var files: [MediaManagerAPI.FileDescriptor] = []
        while true {
            let page = try await listFiles(query)
            files += page.files
            guard let next = page.nextCursor, next.hasNext, let cursor = next.cursors.next else { return files }
            query.paging.cursor = cursor
        }
    }

    /// Search Files.
    public func searchFiles(_ request: SearchFilesRequest) async throws -> ListFilesResponse {
        try await call(.POST, MediaManagerPath.searchFiles, body: request)
    }

    /// Update File Descriptor: rename (`displayName`), move (`parentFolderId`) or relabel, as `fieldMask` says.
    public func updateFile(_ update: FileDescriptorUpdate, fields: [String]) async throws -> MediaManagerAPI.FileDescriptor {
        let response: FileDescriptorResponse = try await call(
            .PATCH, MediaManagerPath.updateFileDescriptor,
            body: UpdateFileDescriptorRequest(file: update, fieldMask: FieldMask(paths: fields.map { "file.\($0)" })))
        return response.file
    }

    /// Renames a file on the service.
    public func renameFile(id: String, to displayName: String) async throws -> MediaManagerAPI.FileDescriptor {
        try await updateFile(FileDescriptorUpdate(id: id, displayName: displayName), fields: ["displayName"])
    }

    /// Moves a file to another folder.
    public func moveFile(id: String, toFolder parentFolderId: String) async throws -> MediaManagerAPI.FileDescriptor {
        try await updateFile(FileDescriptorUpdate(id: id, parentFolderId: parentFolderId), fields: ["parentFolderId"])
    }

    /// Bulk Delete Files: to the trash, or for good with `permanent`. Deleting twice is not an error.
    public func deleteFiles(ids: [String], permanent: Bool = false) async throws {
        let _: EmptyResponse = try await call(
            .POST, MediaManagerPath.bulkDeleteFiles, body: BulkDeleteFilesRequest(fileIds: ids, permanent: permanent))
    }

    /// Import File: asks the service to fetch `request.url`. The descriptor comes back PENDING; see
    /// ``waitUntilProcessed(fileID:timeout:)``.
    public func importFile(_ request: ImportFileRequest) async throws -> MediaManagerAPI.FileDescriptor {
        let response: FileDescriptorResponse = try await call(.POST, MediaManagerPath.importFile, body: request)
        return response.file
    }

    /// Generate download URLs for a file.
    public func downloadURLs(fileID: String, expirationInMinutes: Int? = nil) async throws -> [DownloadURL] {
        let response: GenerateDownloadURLResponse = try await call(
            .POST, MediaManagerPath.generateDownloadURL(fileID: fileID),
            body: GenerateDownloadURLRequest(expirationInMinutes: expirationInMinutes))
        return response.downloadUrls
    }

    // MARK: - Folders

    /// Creates a folder.
    public func createFolder(displayName: String, parentFolderId: String? = nil) async throws -> Folder {
        let response: FolderResponse = try await call(
            .POST, MediaManagerPath.folders, body: CreateFolderRequest(displayName: displayName, parentFolderId: parentFolderId))
        return response.folder
    }

    /// Gets a folder by id.
    public func folder(id: String) async throws -> Folder {
        let response: FolderResponse = try await call(.GET, MediaManagerPath.folder(id: id))
        return response.folder
    }

    /// Lists folders under `parentFolderId` (one page).
    public func listFolders(parentFolderId: String? = nil, paging: CursorPaging = .init()) async throws -> ListFoldersResponse {
        var items: [URLQueryItem] = []
        if let parentFolderId { items.append(URLQueryItem(name: "parentFolderId", value: parentFolderId)) }
        if let limit = paging.limit { items.append(URLQueryItem(name: "paging.limit", value: String(limit))) }
        if let cursor = paging.cursor { items.append(URLQueryItem(name: "paging.cursor", value: cursor)) }
        return try await call(.GET, MediaManagerPath.folders, query: items)
    }

    /// Renames or moves a folder.
    public func updateFolder(id: String, _ update: FolderUpdate, fields: [String]) async throws -> Folder {
        let response: FolderResponse = try await call(
            .PATCH, MediaManagerPath.folder(id: id),
            body: UpdateFolderRequest(folder: update, fieldMask: FieldMask(paths: fields.map { "folder.\($0)" })))
        return response.folder
    }

    /// Bulk Delete Folders.
    public func deleteFolders(ids: [String], permanent: Bool = false) async throws {
        let _: EmptyResponse = try await call(
            .POST, MediaManagerPath.bulkDeleteFolders, body: BulkDeleteFoldersRequest(folderIds: ids, permanent: permanent))
    }

    // MARK: - Processing

    /// Polls Get File Descriptor until the file is READY or FAILED, waiting 200 ms at first and up to 5 s
    /// between polls. Returns the last descriptor (check its `operationStatus`).
    /// - Throws: ``MediaManagerError/timedOut(fileID:lastStatus:)`` when `timeout` passes first.
    public func waitUntilProcessed(fileID: String, timeout: Duration = .seconds(600)) async throws -> MediaManagerAPI.FileDescriptor {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var wait = Duration.milliseconds(200)
        while true {
            let descriptor = try await file(id: fileID)
            if descriptor.operationStatus == .ready || descriptor.operationStatus == .failed { return descriptor }
            guard clock.now.advanced(by: wait) < deadline else {
                throw MediaManagerError.timedOut(fileID: fileID, lastStatus: descriptor.operationStatus?.rawValue)
            }
            try await Task.sleep(for: wait)
            wait = min(wait * 2, .seconds(5))
        }
    }
}
