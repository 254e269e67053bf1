import AsyncHTTPClient
import Foundation
import MediaManagerAPI
import NIOCore
import NIOHTTP1
import TusClient

extension MediaManagerClient {
    /// Uploads the file at `path`: under ``resumableThreshold`` by the plain upload URL (one PUT), otherwise
    /// by the resumable flow (tus, then finalize). Returns the descriptor the service created (usually
    /// PENDING: see ``waitUntilProcessed(fileID:timeout:)``).
    ///
    /// `progress` reports bytes the service acknowledged (for a PUT, all at the end).
    public func upload(
        file path: String, options: MediaUploadOptions = .init(), progress: TusProgressHandler? = nil
    ) async throws -> MediaManagerAPI.FileDescriptor {
        let size = try Self.fileSize(path)
        let name = options.fileName ?? (path as NSString).lastPathComponent
        let mimeType = options.mimeType ?? mimeTypes.mimeType(ofFile: path, fileName: name)
        if size < Self.resumableThreshold {
            let url = try await generateUploadURL(Self.uploadRequest(options, name: name, mimeType: mimeType, size: size).plain)
            let descriptor = try await put(file: path, to: url, fileName: name, mimeType: mimeType)
            progress?(TusProgress(acknowledged: size, total: size))
            return descriptor
        }
        let resumable = try await generateResumableUploadURL(Self.uploadRequest(options, name: name, mimeType: mimeType, size: size))
        guard let endpoint = URL(string: resumable.uploadUrl) else {
            throw MediaManagerError.invalidResponse("uploadUrl is not a URL: \(resumable.uploadUrl)")
        }
        _ = try await tus.upload(
            file: path, to: endpoint,
            metadata: Self.tusMetadata(fileName: name, mimeType: mimeType, uploadToken: resumable.uploadToken),
            progress: progress)
        return try await finalizeResumableUpload(uploadURL: endpoint, uploadToken: resumable.uploadToken, fileName: name)
    }

    /// Generate File Upload URL: where one PUT of the whole file goes.
    public func generateUploadURL(_ request: GenerateFileUploadURLRequest) async throws -> URL {
        let response: GenerateFileUploadURLResponse = try await call(.POST, MediaManagerPath.generateUploadURL, body: request)
        guard let url = URL(string: response.uploadUrl) else {
            throw MediaManagerError.invalidResponse("uploadUrl is not a URL: \(response.uploadUrl)")
        }
        return url
    }

    /// Uploads the file at `path` to a plain upload URL: `PUT {uploadUrl}?filename=NAME`, the body streamed
    /// from the file, no credentials. An interrupted PUT starts over (retried as ``RequestRetryPolicy`` says).
    /// With `size`, exactly the first `size` bytes are sent (the size the URL was asked for), however much the
    /// file has grown since; without it, the whole file as it is when the PUT starts.
    public func put(
        file path: String, size: Int64? = nil, to uploadURL: URL, fileName: String, mimeType: String
    ) async throws -> MediaManagerAPI.FileDescriptor {
        let url = try Self.url(uploadURL.absoluteString, adding: [URLQueryItem(name: "filename", value: fileName)])
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: mimeType)
        let bytes = try await withRetries("PUT upload URL") {
            let (body, _) = try HTTPClientRequest.Body.fileRegion(path: path, length: size)
            return try await self.send(.PUT, url, headers: headers, body: body)
        }
        return try Self.decodeDescriptor(bytes, what: "PUT upload URL")
    }

    /// Generate File Resumable Upload URL: a tus endpoint and the single-use token that goes in its metadata.
    public func generateResumableUploadURL(
        _ request: GenerateFileResumableUploadURLRequest
    ) async throws -> GenerateFileResumableUploadURLResponse {
        try await call(.POST, MediaManagerPath.generateResumableUploadURL, body: request)
    }

    /// The tus metadata the service requires on a resumable upload: `filename`, `contentType`, `token`.
    public static func tusMetadata(fileName: String, mimeType: String, uploadToken: String) -> [String: String] {
        [
            ResumableUploadMetadataKey.filename: fileName,
            ResumableUploadMetadataKey.contentType: mimeType,
            ResumableUploadMetadataKey.token: uploadToken,
        ]
    }

    /// Finalizes a finished tus upload: `PUT {uploadUrl}/{uploadToken}?filename=NAME` with an empty body.
    public func finalizeResumableUpload(uploadURL: URL, uploadToken: String, fileName: String) async throws -> MediaManagerAPI.FileDescriptor {
        guard var components = URLComponents(url: uploadURL, resolvingAgainstBaseURL: true) else {
            throw MediaManagerError.invalidResponse("uploadUrl is not a URL: \(uploadURL)")
        }
        var path = components.percentEncodedPath
        if !path.hasSuffix("/") { path += "/" }
        components.percentEncodedPath = path + (uploadToken.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? uploadToken)
        guard let base = components.url?.absoluteString else {
            throw MediaManagerError.invalidResponse("uploadUrl is not a URL: \(uploadURL)")
        }
        let url = try Self.url(base, adding: [URLQueryItem(name: "filename", value: fileName)])
        let bytes = try await withRetries("finalize resumable upload") {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "0")
            return try await self.send(.PUT, url, headers: headers, body: nil)
        }
        return try Self.decodeDescriptor(bytes, what: "finalize")
    }

    static func uploadRequest(
        _ options: MediaUploadOptions, name: String, mimeType: String, size: Int64
    ) -> GenerateFileResumableUploadURLRequest {
        GenerateFileResumableUploadURLRequest(
            mimeType: mimeType, fileName: name, sizeInBytes: String(size), parentFolderId: options.parentFolderId,
            isPrivate: options.isPrivate, labels: options.labels, externalInfo: options.externalInfo,
            filePath: options.filePath, uploadProtocol: .tus)
    }

    static func decodeDescriptor(_ bytes: ByteBuffer, what: String) throws -> MediaManagerAPI.FileDescriptor {
        do {
            return try JSONDecoder().decode(FileDescriptorResponse.self, from: Data(bytes.readableBytesView)).file
        } catch {
            throw MediaManagerError.invalidResponse("\(what): \(error)")
        }
    }

    static func fileSize(_ path: String) throws -> Int64 {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            guard (attributes[.type] as? FileAttributeType) == .typeRegular else {
                throw MediaManagerError.file(path: path, message: "not a regular file")
            }
            return (attributes[.size] as? NSNumber)?.int64Value ?? 0
        } catch let error as MediaManagerError {
            throw error
        } catch {
            throw MediaManagerError.file(path: path, message: "cannot read: no such file or no permission")
        }
    }
}
