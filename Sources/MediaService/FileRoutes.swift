import Foundation
import Hummingbird
import MediaManagerAPI
import Timekeeping
import TusServer

/// The file calls of the management API (`/site-media/v1/files…`, `/site-media/v1/bulk/files/delete`).
struct FileRoutes {
    let service: MediaService

    func add<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.post("files/generate-upload-url") { request, context in try await generateUploadURL(request, context) }
        group.post("files/generate-resumable-upload-url") { request, context in
            try await generateResumableUploadURL(request, context)
        }
        group.post("files/import") { request, context in try await importFile(request, context) }
        group.get("files/get-file-by-id") { request, _ in try await getFile(request) }
        group.post("files/get-files") { request, context in try await getFiles(request, context) }
        group.get("files") { request, _ in try await listFiles(request) }
        group.post("files/search") { request, context in try await searchFiles(request, context) }
        group.patch("files/update-file-descriptor") { request, context in try await updateFile(request, context) }
        group.post("bulk/files/delete") { request, context in try await bulkDelete(request, context) }
        group.post("files/:fileId/generate-download-url") { request, context in
            try await generateDownloadURL(request, context)
        }
    }

    // MARK: upload URLs

    private func ticket(
        kind: UploadTicket.Kind, _ body: GenerateFileUploadURLRequest
    ) async throws -> UploadTicket {
        let mimeType = try MimeTypeRules.check(body.mimeType)
        let fileName = try body.fileName.map { try NameRules.checkName($0, field: "fileName") }
        let size = try body.sizeInBytes.map { try NameRules.checkSizeInBytes($0, limit: service.configuration.maxUploadSize) }
        let labels = try NameRules.checkLabels(body.labels)
        let externalInfo = try NameRules.checkExternalInfo(body.externalInfo)
        let parent = try await service.resolveParent(parentFolderId: body.parentFolderId, filePath: body.filePath)
        let expiry = Date().addingTimeInterval(service.configuration.uploadURLLifetime.seconds)
        return UploadTicket(
            kind: kind, nonce: FolderID.make(), exp: expiry.timeIntervalSince1970, mimeType: mimeType, fileName: fileName,
            parentFolderId: parent, isPrivate: body.isPrivate ?? false, labels: labels,
            externalInfo: externalInfo.map { .init(origin: $0.origin, externalIds: $0.externalIds) }, sizeInBytes: size)
    }

    private func generateUploadURL<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let body = try await JSON.decode(GenerateFileUploadURLRequest.self, from: request, context: context)
        let ticket = try await ticket(kind: .put, body)
        let url = "\(service.baseURL)/upload/put/\(try signed(ticket))"
        return try JSON.response(GenerateFileUploadURLResponse(uploadUrl: url))
    }

    private func generateResumableUploadURL<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let body = try await JSON.decode(GenerateFileResumableUploadURLRequest.self, from: request, context: context)
        if let proto = body.uploadProtocol, proto != .tus {
            throw MediaServiceError.invalidArgument("uploadProtocol must be TUS")
        }
        let ticket = try await ticket(kind: .tus, body.plain)
        let url = "\(service.baseURL)/upload/tus/\(try signed(ticket))"
        return try JSON.response(
            GenerateFileResumableUploadURLResponse(
                uploadProtocol: .tus, uploadUrl: url, uploadToken: UploadToken.make(for: ticket, signer: service.signer)))
    }

    /// The signed ticket of an upload URL, refused when labels and `externalInfo` would make the URL longer than
    /// the service accepts in a request line (``UploadTicket/maxSignedLength``).
    private func signed(_ ticket: UploadTicket) throws -> String {
        let text = service.signer.sign(ticket)
        guard text.utf8.count <= UploadTicket.maxSignedLength else {
            throw MediaServiceError.invalidArgument(
                "labels and externalInfo together are too large for an upload URL (\(text.utf8.count) bytes signed, at most \(UploadTicket.maxSignedLength))")
        }
        return text
    }

    // MARK: import

    private func importFile<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let body = try await JSON.decode(ImportFileRequest.self, from: request, context: context)
        let url = try Importer.validate(body.url)
        let name = try NameRules.checkName(
            body.displayName ?? (url.lastPathComponent.isEmpty || url.lastPathComponent == "/" ? "imported-file" : url.lastPathComponent),
            field: "displayName")
        let mimeType = try body.mimeType.map { try MimeTypeRules.check($0) } ?? MediaKind.mimeType(declared: nil, fileName: name)
        if let mediaType = body.mediaType { try MimeTypeRules.checkMediaTypes([mediaType]) }
        let labels = try NameRules.checkLabels(body.labels)
        let externalInfo = try NameRules.checkExternalInfo(body.externalInfo)
        let parent = try await service.resolveParent(parentFolderId: body.parentFolderId, filePath: body.filePath)
        try await service.importer.checkTarget(url)
        var file = service.newFile(
            displayName: name, parentFolderId: parent, mimeType: mimeType, isPrivate: body.isPrivate ?? false,
            labels: labels, externalInfo: externalInfo, sourceUrl: url.absoluteString)
        if let mediaType = body.mediaType { file.mediaType = mediaType.rawValue }
        try await service.database.insert(file)
        service.importer.start(file)
        return try JSON.response(FileDescriptorResponse(file: service.descriptor(file)))
    }

    // MARK: reading

    private func existingFile(_ id: String?) async throws -> FileRecord {
        guard let id, !id.isEmpty else { throw MediaServiceError.invalidArgument("fileId is required") }
        guard FileID.contentName(of: id) != nil, let file = try await service.database.file(id) else {
            throw MediaServiceError.notFound("file \(id.prefix(80))")
        }
        return file
    }

    private func getFile(_ request: Request) async throws -> Response {
        let file = try await existingFile(JSON.query(request, "fileId"))
        return try JSON.response(FileDescriptorResponse(file: service.descriptor(file)))
    }

    private func getFiles<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let body = try await JSON.decode(GetFileDescriptorsRequest.self, from: request, context: context)
        guard (1...100).contains(body.fileIds.count) else {
            throw MediaServiceError.invalidArgument("fileIds must hold 1 to 100 ids")
        }
        // One read for the whole batch (clients poll processing with up to 100 ids a call); the errors are
        // those of asking for each id in turn.
        let wellFormed = body.fileIds.filter { !$0.isEmpty && FileID.contentName(of: $0) != nil }
        let stored = try await service.database.files(ids: wellFormed)
        var byID: [String: FileRecord] = [:]
        for case let file? in stored { byID[file.id] = file }
        var files: [FileDescriptor] = []
        files.reserveCapacity(body.fileIds.count)
        for id in body.fileIds {
            guard !id.isEmpty else { throw MediaServiceError.invalidArgument("fileId is required") }
            guard let file = byID[id] else { throw MediaServiceError.notFound("file \(id.prefix(80))") }
            files.append(service.descriptor(file))
        }
        return try JSON.response(GetFileDescriptorsResponse(files: files))
    }

    private func listFiles(_ request: Request) async throws -> Response {
        let query: ListFilesQuery
        do { query = try ListFilesQuery(queryItems: JSON.queryItems(request)) } catch let error as MediaManagerAPIError {
            throw MediaServiceError.invalidArgument(error.message)
        }
        try MimeTypeRules.checkMediaTypes(query.mediaTypes, field: "mediaTypes")
        let parent = query.parentFolderId ?? SpecialFolder.mediaRoot
        try await service.requireFolder(parent)
        let filter = FileFilter(
            parentFolderId: parent, state: parent == SpecialFolder.trashRoot ? .deleted : .ok,
            mediaTypes: query.mediaTypes, isPrivate: query.isPrivate)
        return try await page(filter: filter, sort: query.sort, paging: query.paging)
    }

    private func searchFiles<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let body = try await JSON.decode(SearchFilesRequest.self, from: request, context: context)
        try MimeTypeRules.checkMediaTypes(body.mediaTypes ?? [], field: "mediaTypes")
        var filter = FileFilter(mediaTypes: body.mediaTypes ?? [], isPrivate: body.isPrivate, search: try NameRules.checkSearch(body.search))
        switch body.rootFolder ?? .mediaRoot {
        case .mediaRoot: filter.state = .ok
        case .trashRoot: filter.state = .deleted
        case .visitorUploadsRoot: filter.parentFolderId = SpecialFolder.visitorUploads
        }
        return try await page(filter: filter, sort: body.sort, paging: body.paging ?? .init())
    }

    private func page(filter: FileFilter, sort: Sorting?, paging: CursorPaging) async throws -> Response {
        let limit = try PageCursor.limit(paging.limit)
        let offset = try PageCursor.decode(paging.cursor)
        let rows = try await service.database.files(matching: filter, sort: sort, offset: offset, limit: limit + 1)
        let hasNext = rows.count > limit
        let files = rows.prefix(limit).map(service.descriptor)
        let next = hasNext ? PageCursor.encode(offset: offset + limit) : nil
        return try JSON.response(
            ListFilesResponse(files: Array(files), nextCursor: PagingMetadata(cursors: .init(next: next), hasNext: hasNext)))
    }

    // MARK: changing

    private func updateFile<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let body = try await JSON.decode(UpdateFileDescriptorRequest.self, from: request, context: context)
        let id = try await existingFile(body.file.id).id
        let paths = Set(body.fieldMask?.paths ?? [])
        func wanted(_ field: String) -> Bool { body.fieldMask == nil || paths.contains("file.\(field)") || paths.contains(field) }
        let name = try wanted("displayName") ? body.file.displayName.map { try NameRules.checkName($0, field: "displayName") } : nil
        let parent = wanted("parentFolderId") ? body.file.parentFolderId : nil
        if let parent { try await service.requireFolder(parent) }
        let labels = try wanted("labels") ? body.file.labels.map(NameRules.checkLabels) : nil
        let now = Date().timeIntervalSince1970
        // Read, change and write in one transaction (processing may finish meanwhile).
        guard let (file, _) = try await service.database.modifyFile(id, { file in
            if let name { file.displayName = name }
            if let parent {
                file.parentFolderId = parent
                file.state = parent == SpecialFolder.trashRoot ? FileState.deleted.rawValue : FileState.ok.rawValue
            }
            if let labels { file.labels = labels }
            file.updatedAt = now
            return true
        }) else { throw MediaServiceError.notFound("file \(id.prefix(80))") }
        return try JSON.response(FileDescriptorResponse(file: service.descriptor(file)))
    }

    private func bulkDelete<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let body = try await JSON.decode(BulkDeleteFilesRequest.self, from: request, context: context)
        guard body.fileIds.count <= 100 else { throw MediaServiceError.invalidArgument("at most 100 fileIds") }
        for id in body.fileIds {
            guard FileID.contentName(of: id) != nil else { throw MediaServiceError.invalidArgument("invalid file id \"\(id.prefix(80))\"") }
        }
        for id in body.fileIds {
            guard let file = try await service.database.file(id) else { continue }  // already gone: not an error
            if body.permanent == true {
                try await service.database.deleteFile(id)
                try? FileManager.default.removeItem(at: service.contentPath(of: file))
            } else if file.state != FileState.deleted.rawValue {
                let now = Date().timeIntervalSince1970
                try await service.database.modifyFile(id) { file in
                    guard file.state != FileState.deleted.rawValue else { return false }
                    file.parentBeforeTrash = file.parentFolderId
                    file.parentFolderId = SpecialFolder.trashRoot
                    file.state = FileState.deleted.rawValue
                    file.updatedAt = now
                    return true
                }
            }
        }
        return try JSON.response(EmptyResponse())
    }

    private func generateDownloadURL<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let file = try await existingFile(context.parameters.get("fileId"))
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let body = buffer.readableBytes == 0
            ? GenerateDownloadURLRequest() : try JSONRequestBody.decode(GenerateDownloadURLRequest.self, from: Data(buffer: buffer))
        let minutes = body.expirationInMinutes ?? 600
        guard minutes >= 1, minutes <= 60 * 24 * 365 else {
            throw MediaServiceError.invalidArgument("expirationInMinutes must be between 1 and 525600")
        }
        let claims = DownloadClaims(fileId: file.id, exp: Date().addingTimeInterval(Double(minutes) * 60).timeIntervalSince1970)
        let url = "\(service.baseURL)/media/\(file.id)?token=\(service.signer.sign(claims))"
        return try JSON.response(GenerateDownloadURLResponse(downloadUrls: [DownloadURL(url: url, assetKey: "src")]))
    }
}
