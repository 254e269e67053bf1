import Foundation
import Hummingbird
import MediaManagerAPI
import TusCore
import TusServer

/// The upload URLs: plain `PUT /upload/put/TICKET?filename=`, the tus endpoint `/upload/tus/TICKET`, and its
/// finalize call `PUT /upload/tus/TICKET/TOKEN?filename=`. No API key: the signed URL (and token) is the credential.
struct UploadRoutes {
    let service: MediaService

    func add<Context: ChannelRequestContext>(to router: Router<Context>) {
        router.put("upload/put/:ticket") { request, context in try await put(request, context) }
        let tus = router.group("upload/tus/:ticket")
        service.tusEndpoint.addRoutes(to: tus)
        // Finalize reuses the tus route's path shape: its last segment (`uploadID`) is the upload token here.
        tus.put(":uploadID") { request, context in try await finalize(request, context) }
    }

    private func verifiedTicket(_ text: String?, kind: UploadTicket.Kind) throws -> UploadTicket {
        guard let text, let ticket = try? service.signer.verify(text, as: UploadTicket.self), ticket.kind == kind else {
            throw MediaServiceError.badSignature
        }
        return ticket
    }

    private func fileName(_ request: Request, ticket: UploadTicket, metadata: UploadMetadata? = nil) throws -> String {
        let name = JSON.query(request, "filename").flatMap { $0.isEmpty ? nil : $0 }
            ?? metadata?[ResumableUploadMetadataKey.filename] ?? ticket.fileName
        guard let name else { throw MediaServiceError.invalidArgument("the filename query parameter is required") }
        return try NameRules.checkName(name, field: "filename")
    }

    // MARK: plain PUT

    private func put<Context: ChannelRequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let ticket = try verifiedTicket(context.parameters.get("ticket"), kind: .put)
        guard !ticket.isExpired else { throw MediaServiceError.expired("the upload URL") }
        if let record = try await service.database.uploadURL(ticket.nonce), record.fileId != nil {
            throw MediaServiceError.alreadyUsed("the upload URL")
        }
        let name = try fileName(request, ticket: ticket)
        let declaredType = try request.headers[.contentType].map { try MimeTypeRules.check($0, field: "Content-Type") }
        // A body past the signed size (or the largest upload) is refused as soon as it passes, never read to its end.
        let limit = ticket.sizeInBytes ?? service.configuration.maxUploadSize
        let tooLarge = MediaServiceError.tooLarge(
            ticket.sizeInBytes != nil
                ? "the body is longer than the \(limit) bytes the upload URL was made for"
                : "the body is longer than the largest upload of \(limit) bytes")
        if let declared = RequestBodyCutoff.declaredLength(request), declared > limit {
            RequestBodyCutoff.stopReading(context.channel)
            throw tooLarge
        }
        if service.configuration.faults.shouldFail() { throw MediaServiceError.injectedFailure }

        let staging = service.stagingPath(RandomHex.make(bytes: 16))
        defer { unlink(staging) }  // gone already once stored
        var writer = try BodyWriter(path: staging, offset: 0, checksum: nil, backgroundDigests: FileProcessor.contentDigests)
        let channel = context.channel
        let metrics = service.metrics
        let dropper = service.putDropper
        do {
            try await writer.write(
                request.body, limit: limit, dropAfterBytes: dropper.threshold(for: ticket.nonce),
                onBytes: { metrics.addBytesReceived($0) },
                dropConnection: {
                    dropper.markDropped(ticket.nonce)
                    channel.close(promise: nil)
                })
        } catch TusRefusal.tooLarge {
            RequestBodyCutoff.stopReading(channel)
            throw tooLarge
        }
        try await writer.sync()
        let size = writer.written
        if let expected = ticket.sizeInBytes, expected != size {
            throw MediaServiceError.invalidArgument("received \(size) bytes but the upload URL was made for \(expected)")
        }
        let mimeType = MediaKind.mimeType(declared: declaredType ?? ticket.mimeType, fileName: name)
        let file = service.newFile(
            displayName: name, parentFolderId: ticket.parentFolderId, mimeType: mimeType, isPrivate: ticket.isPrivate,
            labels: ticket.labels, externalInfo: ticket.externalInfo.map { ExternalInfo(origin: $0.origin, externalIds: $0.externalIds) },
            size: size)
        return try await store(file, from: staging, nonce: ticket.nonce, uploadID: nil)
    }

    /// Moves the received bytes into the content store, records the file (once per upload URL) and starts processing.
    private func store(_ file: FileRecord, from source: String, nonce: String, uploadID: String?) async throws -> Response {
        let destination = service.contentFilePath(of: file)
        // rename(2) itself: staging and content are in the same data directory, and the id (128 random bits)
        // names no existing content. FileManager.moveItem looks at both paths first, at a cost per upload.
        guard rename(source, destination) == 0 else {
            throw MediaServiceError.internalError("cannot store the content: \(String(cString: strerror(errno)))")
        }
        guard try await service.database.completeUpload(nonce: nonce, uploadID: uploadID, file: file) else {
            unlink(destination)
            throw MediaServiceError.alreadyUsed("the upload URL")
        }
        service.logger.info("file \(file.id) uploaded (\(file.sizeInBytes) bytes), processing")
        service.processor.schedule(file.id)
        return try JSON.response(FileDescriptorResponse(file: service.descriptor(file)))
    }

    // MARK: tus finalize

    private func finalize<Context: ChannelRequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let ticket = try verifiedTicket(context.parameters.get("ticket"), kind: .tus)
        let token = context.parameters.get("uploadID") ?? ""
        guard ConstantTime.equals(token, UploadToken.make(for: ticket, signer: service.signer)) else {
            throw MediaServiceError.badSignature
        }
        guard let record = try await service.database.uploadURL(ticket.nonce), let uploadID = record.uploadId else {
            throw MediaServiceError.conflict("no tus upload was created with this upload token")
        }
        if let fileID = record.fileId, let file = try await service.database.file(fileID) {
            return try JSON.response(FileDescriptorResponse(file: service.descriptor(file)))  // finalized before
        }
        let info: UploadInfo
        do { info = try await service.tusEndpoint.store.info(uploadID) } catch {
            throw MediaServiceError.conflict("the tus upload of this token no longer exists")
        }
        guard info.isComplete else {
            throw MediaServiceError.conflict("the tus upload is not complete (\(info.offset) of \(info.length.map(String.init) ?? "?") bytes)")
        }
        let metadata = info.metadata
        let name = try fileName(request, ticket: ticket, metadata: metadata)
        let mimeType = MediaKind.mimeType(declared: metadata[ResumableUploadMetadataKey.contentType] ?? ticket.mimeType, fileName: name)
        let file = service.newFile(
            displayName: name, parentFolderId: ticket.parentFolderId, mimeType: mimeType, isPrivate: ticket.isPrivate,
            labels: ticket.labels, externalInfo: ticket.externalInfo.map { ExternalInfo(origin: $0.origin, externalIds: $0.externalIds) },
            size: info.offset)
        let staging = service.stagingDirectory.appendingPathComponent(UploadInfo.makeID())
        try await service.tusEndpoint.store.takeData(uploadID, to: staging)
        return try await store(file, from: staging.path, nonce: ticket.nonce, uploadID: uploadID)
    }
}
