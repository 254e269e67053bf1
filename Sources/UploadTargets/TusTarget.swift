import Foundation
import Logging
import MediaManagerClient
import TusClient
import UploadEngine
import UploadStatus

/// The upload engine's target for a plain tus server (tusd, tuspyserver, `TusEndpoint`): each file becomes one
/// tus upload, identified by its upload URL.
///
/// The upload's metadata carries `filename` (the path's last component), `filetype` (the MIME type) and
/// `path` (the mount-relative path). A plain tus server has no folders, names or trash: a rename changes
/// nothing on the server, and a delete terminates the upload (`DELETE`).
public struct TusTarget: UploadTarget {
    /// Where uploads are created (`POST`).
    public let endpoint: URL
    /// The tus client.
    public let tus: TusUploader
    /// Finds the MIME type sent as `filetype`.
    public let mimeTypes: MimeTypeDetector
    let logger: Logger

    /// - Parameters:
    ///   - endpoint: the tus creation URL, e.g. `https://tus.example/files/`.
    ///   - tus: the tus client (chunk size, retries, extra headers such as authentication).
    ///   - mimeTypes: finds the `filetype` of each file.
    public init(
        endpoint: URL, tus: TusUploader, mimeTypes: MimeTypeDetector = .shared,
        logger: Logger = Logger(label: "tusfs.tus-target")
    ) {
        self.endpoint = endpoint
        self.tus = tus
        self.mimeTypes = mimeTypes
        self.logger = logger
    }

    /// Creates an empty upload, hands its URL to `onResumeData`, then sends the file. With `resume`, continues
    /// the upload from the server's offset; one the server no longer has is replaced by a new upload.
    /// The stored file's id and URL are the upload URL.
    public func upload(
        file: String, remotePath: String, size: Int64, resume: ResumeData?,
        onResumeData: @escaping @Sendable (ResumeData) async -> Void,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws(UploadTargetError) -> UploadOutcome {
        try await mappingErrors("upload \(remotePath)") {
            let size = try CacheFile.size(of: file)
            if let stored = resume?.tusUploadURL, let uploadURL = URL(string: stored) {
                if try await continueUpload(uploadURL, file: file, size: size, progress: progress) {
                    return Self.stored(uploadURL)
                }
            }
            let name = Self.fileName(of: remotePath)
            let metadata = [
                "filename": name,
                "filetype": mimeTypes.mimeType(ofFile: file, fileName: name),
                "path": RemoteLocation.remoteNames(in: remotePath).joined(separator: "/"),
            ]
            // Empty creation: the URL is journalled before any byte is sent.
            let created = try await tus.create(at: endpoint, length: size, metadata: metadata)
            await onResumeData(ResumeData(tusUploadURL: created.url.absoluteString))
            _ = try await tus.resume(created.url, file: file, from: created.offset, endpoint: endpoint, progress: { progress($0.acknowledged) })
            return Self.stored(created.url)
        }
    }

    /// One `OPTIONS` to the creation endpoint, not retried.
    public func probe() async throws(UploadTargetError) {
        try await probing("probe \(endpoint.absoluteString)") { try await tus.probe(endpoint) }
    }

    /// False when the server no longer has the upload (or has it for another size).
    private func continueUpload(
        _ uploadURL: URL, file: String, size: Int64, progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> Bool {
        do {
            let status = try await tus.status(of: uploadURL)
            if let length = status.length, length != size {
                logger.notice("the server's upload has another size; starting a new one", metadata: ["url": "\(uploadURL)"])
                try? await tus.terminate(uploadURL)
                return false
            }
            if status.offset >= size {
                progress(status.offset)
                return true
            }
            _ = try await tus.resume(uploadURL, file: file, from: status.offset, endpoint: endpoint, progress: { progress($0.acknowledged) })
            return true
        } catch TusError.uploadNotFound {
            logger.notice("tus upload is gone from the server; starting a new one", metadata: ["url": "\(uploadURL)"])
            return false
        }
    }

    private static func stored(_ uploadURL: URL) -> UploadOutcome {
        .stored(RemoteFile(remoteId: uploadURL.absoluteString, url: uploadURL.absoluteString, needsProcessing: false))
    }

    /// Terminates the upload (`DELETE`); one that is gone already counts as deleted.
    public func delete(remoteId: String) async throws(UploadTargetError) {
        try await mappingErrors("delete \(remoteId)") {
            guard let url = URL(string: remoteId) else { throw UploadTargetError.permanent("not an upload URL: \(remoteId)") }
            try await tus.terminate(url)
        }
    }

    /// Nothing to do: a plain tus server keeps no names or folders (the upload's `path` metadata stays as it was).
    public func rename(remoteId: String, to newRemotePath: String) async throws(UploadTargetError) {
        logger.debug("rename has no effect on a plain tus server", metadata: ["remoteId": "\(remoteId)", "to": "\(newRemotePath)"])
    }

    /// Deletes an unfinished upload (`DELETE`); one that is gone already counts as deleted.
    /// The `filename` metadata of the file at `remotePath`: its remote name (`RemoteFileName`), like the Media
    /// Manager target's, so `user.tusfs.remote_name` is the same for both.
    static func fileName(of remotePath: String) -> String {
        RemoteLocation.remoteFileName(of: remotePath) ?? remotePath
    }

    /// Reads the file's content type while it waits for its write-back delay.
    public func prepare(file: String, remotePath: String) {
        mimeTypes.prepare(ofFile: file, fileName: Self.fileName(of: remotePath))
    }

    public func terminate(resume: ResumeData) async throws(UploadTargetError) {
        guard let stored = resume.tusUploadURL else { return }
        try await delete(remoteId: stored)
    }
}
