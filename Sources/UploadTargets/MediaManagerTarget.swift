import Foundation
import Logging
import MediaManagerAPI
import MediaManagerClient
import TusClient
import UploadEngine
import UploadStatus

/// The upload engine's target for a Media Manager service (the real one or `tusfs serve`).
///
/// A mount-relative path `videos/2024/a.mp4` becomes the file `a.mp4` in the folder `videos/2024` under
/// ``rootFolder``. Files under `MediaManagerClient.resumableThreshold` (10 MB) go by one PUT to a plain
/// upload URL; larger ones by a resumable upload URL, tus (in chunks, resumed from the server's offset), and
/// finalize. Processing is followed with Get File Descriptor(s); deletes go to the trash; renames update the
/// file's descriptor (name and folder). See docs/TARGETS.md.
public struct MediaManagerTarget: UploadTarget {
    /// The Media Manager client, with the tus client it uploads large files with.
    public let client: MediaManagerClient
    /// The folder path on the service under which the mount's tree goes (e.g. `/backup`); "" for the media root.
    public let rootFolder: String
    let rootFolders: [String]
    let urls: RelocatableURL
    let folders: RemoteFolders
    let descriptors: DescriptorBatcher
    let preparedURLs: PreparedUploadURLs
    let logger: Logger

    /// - Parameters:
    ///   - client: the Media Manager client (its base URL's origin is the one stored upload URLs are relative to).
    ///   - rootFolder: a folder path on the service, e.g. `/backup`; missing folders are created. "" is the media root.
    ///   - preparedURLRequests: upload URLs asked for ahead of the uploads at once (``PreparedUploadURLs``).
    ///   - logger: where recoveries and lookups are logged.
    public init(
        client: MediaManagerClient, rootFolder: String = "", preparedURLRequests: Int = PreparedUploadURLs.defaultConcurrency,
        logger: Logger = Logger(label: "tusfs.media-manager-target")
    ) {
        self.client = client
        self.rootFolder = rootFolder
        self.rootFolders = RemoteLocation.names(in: rootFolder)
        self.urls = RelocatableURL(origin: client.baseURL)
        self.folders = RemoteFolders(client: client, logger: logger)
        self.descriptors = DescriptorBatcher(client: client)
        self.preparedURLs = PreparedUploadURLs(client: client, concurrency: preparedURLRequests, logger: logger)
        self.logger = logger
    }

    func location(of remotePath: String) throws(UploadTargetError) -> RemoteLocation {
        try RemoteLocation(remotePath, under: rootFolders)
    }

    /// A stored upload URL resolved against the service's current origin.
    func resolved(_ stored: String) throws(UploadTargetError) -> URL {
        guard let url = urls.resolved(stored) else { throw .permanent("not a URL in the resume data: \(stored)") }
        return url
    }

    // MARK: UploadTarget

    /// One List Files of a single entry, not retried.
    public func probe() async throws(UploadTargetError) {
        try await probing("probe \(client.baseURL.absoluteString)") { try await client.probe() }
    }

    /// Uploads by one PUT (under 10 MB) or by tus (then ``finalize(resume:remotePath:size:)`` is needed).
    ///
    /// With `resume`, a tus upload continues from the server's offset (HEAD); one the server no longer has,
    /// or whose signed URL has expired, is started afresh with a new upload URL. A plain PUT is sent again to
    /// the same URL; if the service says that URL was used already (the first PUT stored the file before a
    /// crash), the file it created is looked up instead of uploading a duplicate (see docs/TARGETS.md).
    public func upload(
        file: String, remotePath: String, size: Int64, resume: ResumeData?,
        onResumeData: @escaping @Sendable (ResumeData) async -> Void,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws(UploadTargetError) -> UploadOutcome {
        let location = try location(of: remotePath)
        return try await mappingErrors("upload \(remotePath)") {
            let size = try CacheFile.size(of: file)
            if size < MediaManagerClient.resumableThreshold, let prepared = await preparedURLs.take(path: file, location: location) {
                let upload = Upload(
                    file: file, location: location, size: size, mimeType: prepared.mimeType, onResumeData: onResumeData, progress: progress)
                return try await uploadPlain(upload, resume: resume, preparedURL: prepared.url)
            }
            let mimeType = client.mimeTypes.mimeType(ofFile: file, fileName: location.fileName)
            let upload = Upload(file: file, location: location, size: size, mimeType: mimeType, onResumeData: onResumeData, progress: progress)
            if size >= MediaManagerClient.resumableThreshold {
                return try await uploadResumable(upload, resume: resume)
            }
            return try await uploadPlain(upload, resume: resume)
        }
    }

    /// Finalize resumable upload: the upload token becomes a file. The service answers a token it finalized
    /// before with the same file.
    public func finalize(resume: ResumeData, remotePath: String, size: Int64) async throws(UploadTargetError) -> RemoteFile {
        guard let token = resume.uploadToken, let stored = resume.plainUploadURL else {
            throw .permanent("nothing to finalize: no upload token in the resume data")
        }
        let uploadURL = try resolved(stored)
        let location = try location(of: remotePath)
        do {
            // Not cancelled once sent (like a plain PUT): the service may finalize even if we stop waiting, and
            // the engine trashes the file of a finalize it no longer wants only when it gets the answer.
            let client = self.client
            let name = location.fileName
            try Task.checkCancellation()
            let descriptor = try await Task {
                try await client.finalizeResumableUpload(uploadURL: uploadURL, uploadToken: token, fileName: name)
            }.value
            return Self.remoteFile(descriptor)
        } catch let error as MediaManagerError where error.status == 409 {
            // The tus upload is incomplete or gone (expired): another upload attempt continues or replaces it.
            throw .retryable("finalize \(remotePath): \(error)", status: 409)
        } catch {
            throw UploadTargetError.from(error, doing: "finalize \(remotePath)")
        }
    }

    /// Get File Descriptor: PENDING, READY (with the file's URL) or FAILED. A file the service does not know
    /// is a permanent error. Polls of several files within a few milliseconds go as one Get File Descriptors
    /// call (`DescriptorBatcher`).
    public func processingStatus(remoteId: String) async throws(UploadTargetError) -> ProcessingStatus {
        try await mappingErrors("status of \(remoteId)") {
            let descriptor = try await descriptors.descriptor(of: remoteId)
            switch descriptor.operationStatus {
            case .ready: return .ready(url: descriptor.url)
            case .failed: return .failed(reason: "the service could not process the file")
            default: return .pending
            }
        }
    }

    /// Bulk Delete to the trash (not permanent). A file that is gone already counts as deleted.
    public func delete(remoteId: String) async throws(UploadTargetError) {
        try await mappingErrors("delete \(remoteId)") {
            do {
                try await client.deleteFiles(ids: [remoteId], permanent: false)
            } catch let error as MediaManagerError where error.status == 404 {
                logger.debug("file to delete is gone already", metadata: ["remoteId": "\(remoteId)"])
            }
        }
    }

    /// Update File Descriptor: the display name, and the folder when the directory changed (missing folders
    /// are created). A file in the trash is left there.
    public func rename(remoteId: String, to newRemotePath: String) async throws(UploadTargetError) {
        let location = try location(of: newRemotePath)
        try await mappingErrors("rename \(remoteId) to \(newRemotePath)") {
            let current = try await client.file(id: remoteId)
            if current.state == .deleted || current.parentFolderId == SpecialFolder.trashRoot {
                logger.debug("not renaming a file in the trash", metadata: ["remoteId": "\(remoteId)"])
                return
            }
            var attempt = 0
            while true {
                attempt += 1
                let folderID = try await folders.verifiedID(of: location.folders)
                var update = FileDescriptorUpdate(id: remoteId)
                var fields: [String] = []
                if current.displayName != location.fileName {
                    update.displayName = location.fileName
                    fields.append("displayName")
                }
                if current.parentFolderId != folderID {
                    update.parentFolderId = folderID
                    fields.append("parentFolderId")
                }
                guard !fields.isEmpty else { return }
                do {
                    _ = try await client.updateFile(update, fields: fields)
                    return
                } catch let error as MediaManagerError where error.status == 404 && attempt == 1 {
                    // The folder vanished between the check and the move: look it up (or make it) again.
                    await folders.forget(location.folders)
                }
            }
        }
    }

    /// Works ahead while the file waits for its write-back delay: a file for a plain upload (under 10 MB) gets
    /// its content type read and its upload URL asked for (``PreparedUploadURLs``: the upload is then one
    /// PUT); a larger one gets its content type read (libmagic is a good part of the CPU a file costs here).
    /// An empty file gets nothing: it is usually one just created and about to be written (and a URL made for
    /// zero bytes that ends up unused takes the empty probe PUT of ``terminate(resume:)`` as an upload).
    public func prepare(file: String, remotePath: String) {
        guard let location = try? location(of: remotePath) else { return }
        guard let size = try? CacheFile.size(of: file), size > 0 else { return }  // often about to be written
        if size < MediaManagerClient.resumableThreshold {
            let urls = preparedURLs
            Task { await urls.prepare(path: file, location: location) }
        } else {
            client.mimeTypes.prepare(ofFile: file, fileName: location.fileName)
        }
    }

    /// Resumable uploads (from 10 MB) get their folder when the upload URL is generated and their file name
    /// at finalize, so the engine may start them at close and keep them through a rename in their folder.
    public var namedAtFinalizeFromSize: Int64? { MediaManagerClient.resumableThreshold }

    /// Deletes an unfinished upload, and makes sure it did not become a file after all:
    /// - tus: `DELETE` of the upload (gone counts as done); then, with an upload token, finalize is asked:
    ///   a file coming back means the upload had been finalized (a crash or a cancellation raced with the
    ///   service), and that file is moved to the trash; a refusal (no such upload, not complete) means no
    ///   file was made.
    /// - plain URL only: an empty PUT probes the URL. A file coming back (a zero-byte upload) goes to the
    ///   trash; a refusal for the size means the URL was never used; "already used" (or expired) means an
    ///   earlier PUT may have stored the file, which is then looked up by folder, name and size and trashed.
    public func terminate(resume: ResumeData) async throws(UploadTargetError) {
        try await mappingErrors("terminate upload") {
            if let stored = resume.tusUploadURL {
                let uploadURL = try resolved(stored)
                do {
                    try await client.tus.terminate(uploadURL)
                } catch TusError.http(let status, let message) where status == 403 {
                    // The signed URL is no longer accepted; the service drops the upload when it expires.
                    logger.debug("tus upload cannot be deleted", metadata: ["status": "\(status)", "message": "\(message)"])
                }
                if let token = resume.uploadToken, let endpoint = resume.plainUploadURL {
                    try await trashIfFinalized(uploadURL: try resolved(endpoint), token: token)
                }
            } else if let stored = resume.plainUploadURL {
                try await trashIfStoredByPlainURL(PlainUploadReference(decoding: stored))
            }
        }
    }

    // MARK: helpers

    /// One upload's fixed inputs.
    struct Upload: Sendable {
        var file: String
        var location: RemoteLocation
        var size: Int64
        var mimeType: String
        var onResumeData: @Sendable (ResumeData) async -> Void
        var progress: @Sendable (Int64) -> Void
    }

    static func remoteFile(_ descriptor: MediaManagerAPI.FileDescriptor) -> RemoteFile {
        RemoteFile(remoteId: descriptor.id, url: descriptor.url, needsProcessing: descriptor.operationStatus != .ready)
    }
}
