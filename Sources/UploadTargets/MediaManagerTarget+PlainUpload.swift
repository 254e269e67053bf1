import Foundation
import MediaManagerAPI
import MediaManagerClient
import UploadEngine
import UploadStatus

/// The plain flow: generate upload URL → journal → one PUT; and finding what an earlier PUT stored.
extension MediaManagerTarget {
    /// - Parameter preparedURL: an upload URL asked for ahead (``PreparedUploadURLs``) for this file, size and
    ///   content type; used when there is no URL to resume with.
    func uploadPlain(_ upload: Upload, resume: ResumeData?, preparedURL: URL? = nil) async throws -> UploadOutcome {
        if let resume, resume.tusUploadURL == nil, let stored = resume.plainUploadURL {
            let reference = PlainUploadReference(decoding: stored)
            do {
                return try await put(upload, to: try resolved(reference.url))
            } catch let error as MediaManagerError where Self.isRefusedUploadURL(error) {
                // Used already (an earlier PUT stored the file, then the daemon died before journalling it)
                // or expired: find that file rather than upload a duplicate.
                let location = reference.location ?? upload.location
                if let stored = try await fileStoredBefore(upload, in: location, size: reference.size ?? upload.size) { return stored }
                logger.notice(
                    "upload URL refused and no file found for it; uploading with a new URL",
                    metadata: ["path": "\(upload.location.fileName)", "error": "\(error)"])
            }
        }
        let url: URL
        if let preparedURL {
            try Task.checkCancellation()  // superseded while it waited for the prepared URL: nothing to journal
            url = preparedURL
        } else {
            url = try await client.generateUploadURL(for: upload.location, size: upload.size, mimeType: upload.mimeType)
        }
        let reference = PlainUploadReference(url: urls.stored(url), location: upload.location, size: upload.size)
        await upload.onResumeData(ResumeData(plainUploadURL: reference.encoded))
        do {
            return try await put(upload, to: url)
        } catch let error as MediaManagerError where Self.isRefusedUploadURL(error) {
            // Nobody else has this URL: "used" means a try of this very PUT stored the file and its answer was
            // lost (a connection cut after the service stored it, an HTTP/2 GOAWAY), and the client's retry
            // was refused. Take that file; anything else is the error.
            if let stored = try await fileStoredBefore(upload, in: upload.location, size: upload.size) { return stored }
            throw error
        }
    }

    /// The file an earlier PUT of `upload` stored in `location` (see ``storedFile(in:named:size:)``), as the
    /// upload's outcome; nil when there is none.
    private func fileStoredBefore(_ upload: Upload, in location: RemoteLocation, size: Int64) async throws -> UploadOutcome? {
        guard let file = try await storedFile(in: location.folders, named: location.fileName, size: size) else { return nil }
        logger.info(
            "upload URL was used before; taking the file it stored",
            metadata: ["path": "\(upload.location.fileName)", "remoteId": "\(file.id)"])
        upload.progress(upload.size)
        return .stored(Self.remoteFile(file))
    }

    /// One PUT, not cancelled once started: a cancelled request may still have stored the file on the service
    /// (the bytes were there, only the answer was not awaited), so the PUT runs to its end and its file is
    /// returned; the engine moves the file of a superseded upload to the trash. Cancelling it half-way would
    /// leave that file behind with nobody knowing its id. A task cancelled before the PUT starts sends nothing.
    private func put(_ upload: Upload, to url: URL) async throws -> UploadOutcome {
        let client = self.client
        let (file, size, name, mimeType) = (upload.file, upload.size, upload.location.fileName, upload.mimeType)
        try Task.checkCancellation()  // not sent yet: nothing can be stored
        let descriptor = try await Task { try await client.put(file: file, size: size, to: url, fileName: name, mimeType: mimeType) }.value
        upload.progress(upload.size)
        return .stored(Self.remoteFile(descriptor))
    }

    /// 403 (used or expired, on `tusfs serve`), 409 or 410: the URL will not take this upload.
    static func isRefusedUploadURL(_ error: MediaManagerError) -> Bool {
        [403, 409, 410].contains(error.status ?? 0)
    }

    /// The file an earlier PUT stored, by heuristic: in the folder at `folders` (looked up, never created),
    /// the live file named `name` with `size` bytes that was created last. Nil when there is none.
    func storedFile(in folders: [String], named name: String, size: Int64) async throws -> MediaManagerAPI.FileDescriptor? {
        guard let folderID = try await self.folders.existingID(of: folders) else { return nil }
        var query = ListFilesQuery(
            parentFolderId: folderID, sort: Sorting(fieldName: "createdDate", order: .descending),
            paging: CursorPaging(limit: 100))
        var matches: [MediaManagerAPI.FileDescriptor] = []
        while true {
            let page = try await client.listFiles(query)
            matches += page.files.filter { $0.displayName == name && $0.size == size && $0.state != .deleted }
            guard let next = page.nextCursor, next.hasNext, let cursor = next.cursors.next else { break }
            query.paging.cursor = cursor
        }
        // Sorted by the service already; sort again so a service that ignores `sort` gives the same answer.
        return matches.max { a, b in
            (a.createdAt ?? .distantPast, a.id) < (b.createdAt ?? .distantPast, b.id)
        }
    }

    /// Terminate for a plain upload URL: did a PUT to it store a file? If so, trash that file.
    func trashIfStoredByPlainURL(_ reference: PlainUploadReference) async throws {
        let url = try resolved(reference.url)
        // Probe with an empty PUT: the service checks the URL (used? expired?) before the body.
        let empty = NSTemporaryDirectory() + "/tusfs-empty-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: empty, contents: Data()) else {
            throw UploadTargetError.retryable("cannot create an empty temporary file at \(empty)")
        }
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let fileName = reference.location?.fileName ?? "upload"
        do {
            let probe = try await client.put(file: empty, to: url, fileName: fileName, mimeType: "application/octet-stream")
            // The URL was unused and took an empty file (a zero-byte upload): that file is not wanted either.
            logger.debug("probe of a terminated upload URL stored a file; trashing it", metadata: ["remoteId": "\(probe.id)"])
            try await client.deleteFiles(ids: [probe.id], permanent: false)
        } catch let error as MediaManagerError where Self.isRefusedUploadURL(error) {
            guard let location = reference.location, let size = reference.size else {
                logger.notice("terminated upload URL was used, but its file is unknown", metadata: ["url": "\(reference.url)"])
                return
            }
            if let file = try await storedFile(in: location.folders, named: location.fileName, size: size) {
                logger.info("terminated upload URL had stored a file; moving it to the trash", metadata: ["remoteId": "\(file.id)"])
                try await client.deleteFiles(ids: [file.id], permanent: false)
            }
        } catch let error as MediaManagerError where (400..<500).contains(error.status ?? 0) && error.status != 408 && error.status != 429 {
            // e.g. 400 "received 0 bytes but the upload URL was made for N": never used, nothing stored.
            logger.debug("terminated upload URL was never used", metadata: ["status": "\(error.status ?? 0)"])
        }
    }
}

extension MediaManagerClient {
    /// Generate File Upload URL for a file of `size` bytes going to `location` (its folder path, created when
    /// missing; the PUT's `?filename=` gives the final name).
    func generateUploadURL(for location: RemoteLocation, size: Int64, mimeType: String) async throws -> URL {
        try await generateUploadURL(
            GenerateFileUploadURLRequest(
                mimeType: mimeType, fileName: location.fileName, sizeInBytes: String(size), filePath: location.filePath))
    }
}
