import Foundation
import Hummingbird
import MediaManagerAPI

/// The folder calls of the management API (`/site-media/v1/folders…`, `/site-media/v1/bulk/folders/delete`).
struct FolderRoutes {
    let service: MediaService

    func add<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.post("folders") { request, context in try await create(request, context) }
        group.get("folders") { request, _ in try await list(request) }
        group.get("folders/:folderId") { _, context in try await get(context) }
        group.patch("folders/:folderId") { request, context in try await update(request, context) }
        group.post("bulk/folders/delete") { request, context in try await bulkDelete(request, context) }
    }

    private func existingFolder(_ id: String?) async throws -> FolderRecord {
        guard let id, FolderID.isValid(id) else { throw MediaServiceError.invalidArgument("invalid folder id") }
        if FolderID.isSpecial(id) {
            return FolderRecord(
                id: id, displayName: id, parentFolderId: "", createdAt: 0, updatedAt: 0, state: FileState.ok.rawValue)
        }
        guard let folder = try await service.database.folder(id) else { throw MediaServiceError.notFound("folder \(id)") }
        return folder
    }

    private func create<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let body = try await JSON.decode(CreateFolderRequest.self, from: request, context: context)
        let name = try NameRules.checkName(body.displayName, field: "displayName")
        let parent = body.parentFolderId ?? SpecialFolder.mediaRoot
        try await service.requireFolder(parent)
        let now = Date().timeIntervalSince1970
        let folder = FolderRecord(
            id: FolderID.make(), displayName: name, parentFolderId: parent, createdAt: now, updatedAt: now,
            state: FileState.ok.rawValue)
        try await service.database.insert(folder)
        return try JSON.response(FolderResponse(folder: folder.folder))
    }

    private func get<Context: RequestContext>(_ context: Context) async throws -> Response {
        try JSON.response(FolderResponse(folder: try await existingFolder(context.parameters.get("folderId")).folder))
    }

    private func list(_ request: Request) async throws -> Response {
        let query: ListFilesQuery
        do { query = try ListFilesQuery(queryItems: JSON.queryItems(request)) } catch let error as MediaManagerAPIError {
            throw MediaServiceError.invalidArgument(error.message)
        }
        let parent = query.parentFolderId ?? SpecialFolder.mediaRoot
        try await service.requireFolder(parent)
        let limit = try PageCursor.limit(query.paging.limit)
        let offset = try PageCursor.decode(query.paging.cursor)
        let rows = try await service.database.folders(
            parent: parent, offset: offset, limit: limit + 1, descending: query.sort?.order == .descending)
        let hasNext = rows.count > limit
        return try JSON.response(
            ListFoldersResponse(
                folders: rows.prefix(limit).map(\.folder),
                nextCursor: PagingMetadata(
                    cursors: .init(next: hasNext ? PageCursor.encode(offset: offset + limit) : nil), hasNext: hasNext)))
    }

    private func update<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let id = context.parameters.get("folderId")
        var folder = try await existingFolder(id)
        guard !FolderID.isSpecial(folder.id) else { throw MediaServiceError.invalidArgument("special folders cannot be changed") }
        let body = try await JSON.decode(UpdateFolderRequest.self, from: request, context: context)
        let paths = Set(body.fieldMask?.paths ?? [])
        func wanted(_ field: String) -> Bool { body.fieldMask == nil || paths.contains("folder.\(field)") || paths.contains(field) }
        if wanted("displayName"), let name = body.folder.displayName {
            folder.displayName = try NameRules.checkName(name, field: "displayName")
        }
        if wanted("parentFolderId"), let parent = body.folder.parentFolderId {
            try await service.requireFolder(parent)
            try await checkNotInside(folder.id, newParent: parent)
            folder.parentFolderId = parent
        }
        folder.updatedAt = Date().timeIntervalSince1970
        try await service.database.update(folder)
        return try JSON.response(FolderResponse(folder: folder.folder))
    }

    /// Refuses to move a folder into itself or one of its subfolders.
    private func checkNotInside(_ id: String, newParent: String) async throws {
        var current: String? = newParent
        var steps = 0
        while let c = current, !FolderID.isSpecial(c), steps < 1000 {
            if c == id { throw MediaServiceError.invalidArgument("a folder cannot be moved into itself") }
            current = try await service.database.folder(c)?.parentFolderId
            steps += 1
        }
    }

    private func bulkDelete<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let body = try await JSON.decode(BulkDeleteFoldersRequest.self, from: request, context: context)
        guard body.folderIds.count <= 100 else { throw MediaServiceError.invalidArgument("at most 100 folderIds") }
        for id in body.folderIds where !FolderID.isValid(id) || FolderID.isSpecial(id) {
            throw MediaServiceError.invalidArgument("invalid folder id \"\(id.prefix(80))\"")
        }
        for id in body.folderIds {
            guard var folder = try await service.database.folder(id) else { continue }
            if body.permanent == true {
                try await service.database.deleteFolder(id)
            } else if folder.state != FileState.deleted.rawValue {
                folder.parentBeforeTrash = folder.parentFolderId
                folder.parentFolderId = SpecialFolder.trashRoot
                folder.state = FileState.deleted.rawValue
                folder.updatedAt = Date().timeIntervalSince1970
                try await service.database.update(folder)
            }
        }
        return try JSON.response(EmptyResponse())
    }
}
