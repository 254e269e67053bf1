import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Timekeeping
import TusCore

extension TusUploader {
    /// Creates an empty upload of `length` bytes (`POST`, creation extension) and returns it.
    ///
    /// Persist the returned ``TusUpload/url`` before sending data, so a crash can resume it.
    ///
    /// The server's `OPTIONS` answer (for its largest upload) is asked while the `POST` travels when it is not
    /// known yet: one round trip instead of two. An upload over the server's limit is then refused after it was
    /// created (the server drops the empty upload when it expires).
    public func create(at endpoint: URL, length: Int64, metadata: [String: String] = [:]) async throws -> TusUpload {
        var headers = HTTPHeaders()
        headers.add(name: TusHeader.uploadLength, value: String(length))
        if !metadata.isEmpty { headers.add(name: TusHeader.uploadMetadata, value: try TusMetadataEncoding.encode(metadata)) }
        if let known = cachedCapabilities(of: endpoint) { try check(length: length, against: known) }
        async let asked = capabilities(of: endpoint)
        var budget = RetryBudget(policy: configuration.retryPolicy)
        let created = try await retrying(&budget, what: "POST \(endpoint.absoluteString)") {
            let response = try await self.send(.POST, endpoint, headers: headers, body: nil)
            return try self.createdUpload(response, endpoint: endpoint, length: length)
        }
        try check(length: length, against: try await asked)
        return created
    }

    /// Creates an upload for the file at `path`. A file up to ``Configuration/creationWithUploadLimit`` goes in
    /// the creation request itself when the server supports creation-with-upload (one round trip); the returned
    /// offset says how much the server took. Larger files are created empty; send them with
    /// ``resume(_:file:from:endpoint:progress:)``.
    public func create(
        at endpoint: URL, file path: String, metadata: [String: String] = [:], progress: TusProgressHandler? = nil
    ) async throws -> TusUpload {
        let file = try ReadOnlyFile(path: path)
        let length = try file.size()
        let capabilities = try await capabilities(of: endpoint)
        guard length > 0, length <= configuration.creationWithUploadLimit, capabilities.supports("creation-with-upload")
        else {
            let upload = try await create(at: endpoint, length: length, metadata: metadata)
            if upload.isComplete { progress?(TusProgress(acknowledged: length, total: length)) }
            return upload
        }
        try check(length: length, against: capabilities)
        var headers = HTTPHeaders()
        headers.add(name: TusHeader.uploadLength, value: String(length))
        if !metadata.isEmpty { headers.add(name: TusHeader.uploadMetadata, value: try TusMetadataEncoding.encode(metadata)) }
        headers.add(name: HTTPHeaderName.contentType, value: TusHeader.offsetOctetStream)
        if configuration.sendsChecksums, let algorithm = capabilities.checksumAlgorithm {
            headers.add(
                name: TusHeader.uploadChecksum,
                value: try file.checksum(algorithm, offset: 0, length: length, blockSize: configuration.readBlockSize))
        }
        var budget = RetryBudget(policy: configuration.retryPolicy)
        let upload = try await retrying(&budget, what: "POST \(endpoint.absoluteString) with data") {
            let body = HTTPClientRequest.Body.stream(
                FileRegionBody(file: file, offset: 0, length: length, blockSize: self.configuration.readBlockSize),
                length: .known(length))
            let response = try await self.send(.POST, endpoint, headers: headers, body: body)
            return try self.createdUpload(response, endpoint: endpoint, length: length)
        }
        if upload.offset > 0 { progress?(TusProgress(acknowledged: upload.offset, total: length)) }
        return upload
    }

    // MARK: - Single requests

    private func createdUpload(_ response: HTTPResponse, endpoint: URL, length: Int64) throws -> TusUpload {
        guard let location = response.headers.first(name: TusHeader.location),
            let url = URL(string: location, relativeTo: endpoint)?.absoluteURL
        else {
            throw TusError.protocolViolation("creation answered \(response.status) without a usable Location")
        }
        let offset = response.headers.first(name: TusHeader.uploadOffset).flatMap { Int64($0) } ?? 0
        return TusUpload(
            url: url, offset: offset, length: length,
            expires: response.headers.first(name: TusHeader.uploadExpires).flatMap(HTTPDate.parse))
    }

    private func check(length: Int64, against capabilities: TusServerCapabilities) throws {
        if let maxSize = capabilities.maxSize, maxSize > 0, length > maxSize {
            throw TusError.tooLarge(size: length, maxSize: maxSize)
        }
    }
}
