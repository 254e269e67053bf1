import Foundation
import MediaManagerAPI
import MediaManagerClient
import TusClient
import UploadEngine
import UploadStatus

/// The resumable flow: generate resumable upload URL → tus create (empty) → journal → PATCHes → (finalize).
extension MediaManagerTarget {
    func uploadResumable(_ upload: Upload, resume: ResumeData?) async throws -> UploadOutcome {
        if let resume, let stored = resume.tusUploadURL {
            if try await continueResumable(upload, uploadURL: try resolved(stored), resume: resume) {
                return .needsFinalize
            }
        }
        return try await startResumable(upload)
    }

    /// Continues an upload from the server's offset. False when the server no longer has it (or no longer
    /// accepts its URL), so a new one must be made.
    private func continueResumable(_ upload: Upload, uploadURL: URL, resume: ResumeData) async throws -> Bool {
        let endpoint = resume.plainUploadURL.flatMap { urls.resolved($0) }
        do {
            let status = try await client.tus.status(of: uploadURL)
            if let length = status.length, length != upload.size {
                logger.notice(
                    "the server's upload has another size; starting a new one",
                    metadata: ["path": "\(upload.location.fileName)", "server": "\(length)", "file": "\(upload.size)"])
                try? await client.tus.terminate(uploadURL)
                return false
            }
            if status.offset >= upload.size {
                upload.progress(status.offset)
                return true
            }
            logger.debug("resuming tus upload", metadata: ["url": "\(uploadURL)", "offset": "\(status.offset)"])
            _ = try await client.tus.resume(
                uploadURL, file: upload.file, from: status.offset, endpoint: endpoint,
                progress: { upload.progress($0.acknowledged) })
            return true
        } catch TusError.uploadNotFound {
            // Gone: expired, terminated, or already finalized (its data became a file). In the last case the
            // engine's finalize returns that file; a fresh upload would make a duplicate.
            if let token = resume.uploadToken, let endpoint, try await wasFinalized(uploadURL: endpoint, token: token) {
                logger.info("tus upload was finalized already", metadata: ["url": "\(uploadURL)"])
                return true
            }
            logger.notice("tus upload is gone from the server; starting a new one", metadata: ["url": "\(uploadURL)"])
            return false
        } catch TusError.http(let status, let message) where status == 403 {
            logger.notice(
                "tus upload URL no longer accepted; starting a new upload",
                metadata: ["url": "\(uploadURL)", "message": "\(message)"])
            return false
        }
    }

    /// Upload URLs asked for in a row when each one's creation is refused (see ``startResumable(_:)``).
    static let resumableURLsPerStart = 3

    /// A new upload URL and tus upload, journalled (through `onResumeData`) before any byte is sent.
    ///
    /// A creation refused with 403 under a URL made a moment ago means an earlier try of the same `POST`
    /// reached the service and used the URL's token, and its answer was lost (a connection closed under it,
    /// an HTTP/2 GOAWAY); the client's retry is then refused. That upload is empty and never finalized (the
    /// service drops it), so a new URL is asked for, up to ``resumableURLsPerStart`` times.
    private func startResumable(_ upload: Upload) async throws -> UploadOutcome {
        var refusals = 0
        while true {
            let resumable = try await client.generateResumableUploadURL(
                GenerateFileResumableUploadURLRequest(
                    mimeType: upload.mimeType, fileName: upload.location.fileName, sizeInBytes: String(upload.size),
                    filePath: upload.location.filePath, uploadProtocol: .tus))
            guard let endpoint = URL(string: resumable.uploadUrl) else {
                throw MediaManagerError.invalidResponse("uploadUrl is not a URL: \(resumable.uploadUrl)")
            }
            // Empty creation (not creation-with-upload): the URL is in the journal before any byte is sent.
            let created: TusUpload
            do {
                created = try await client.tus.create(
                    at: endpoint, length: upload.size,
                    metadata: MediaManagerClient.tusMetadata(
                        fileName: upload.location.fileName, mimeType: upload.mimeType,
                        uploadToken: resumable.uploadToken))
            } catch let refusal as TusError where refusal.status == 403 {
                refusals += 1
                guard refusals < Self.resumableURLsPerStart else { throw refusal }
                logger.notice(
                    "tus creation refused under a new upload URL (an earlier try used it); asking for another",
                    metadata: ["path": "\(upload.location.fileName)", "message": "\(refusal.serverMessage ?? "")"])
                continue
            }
            return try await sendResumable(upload, created: created, endpoint: endpoint, token: resumable.uploadToken)
        }
    }

    /// Journals a just-created upload and sends its bytes.
    private func sendResumable(_ upload: Upload, created: TusUpload, endpoint: URL, token: String) async throws -> UploadOutcome {
        await upload.onResumeData(
            ResumeData(
                tusUploadURL: urls.stored(created.url), uploadToken: token,
                plainUploadURL: urls.stored(endpoint)))
        do {
            _ = try await client.tus.resume(
                created.url, file: upload.file, from: created.offset, endpoint: endpoint,
                progress: { upload.progress($0.acknowledged) })
        } catch TusError.http(let status, let message) where status == 403 {
            // The URL expired during a long upload: the next attempt (with this resume data) starts a new one.
            throw UploadTargetError.retryable("the upload URL is no longer accepted: \(message)", status: status)
        }
        return .needsFinalize
    }

    /// Whether the upload of `token` was finalized into a file already (finalize answers a finalized token
    /// with its file; one without a complete tus upload with a 4xx).
    func wasFinalized(uploadURL: URL, token: String) async throws -> Bool {
        try await finalizedFile(uploadURL: uploadURL, token: token) != nil
    }

    /// The file a finalized upload token became, or nil when the service has no file for it. The file name
    /// sent is only used if the call finalizes a complete upload now, which callers rule out first.
    func finalizedFile(uploadURL: URL, token: String) async throws -> MediaManagerAPI.FileDescriptor? {
        do {
            return try await client.finalizeResumableUpload(uploadURL: uploadURL, uploadToken: token, fileName: "upload")
        } catch let error as MediaManagerError {
            guard let status = error.status, (400..<500).contains(status), status != 408, status != 429 else { throw error }
            return nil
        }
    }

    /// Moves the file a finalized upload token became to the trash (after its tus upload was deleted).
    func trashIfFinalized(uploadURL: URL, token: String) async throws {
        guard let file = try await finalizedFile(uploadURL: uploadURL, token: token) else { return }
        logger.info("terminated upload had become a file; moving it to the trash", metadata: ["remoteId": "\(file.id)"])
        try await client.deleteFiles(ids: [file.id], permanent: false)
    }
}
