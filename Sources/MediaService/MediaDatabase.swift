import Foundation
import GRDB
import MediaManagerAPI

/// Descriptors, folders and upload-URL records in SQLite (`DATA/media.sqlite`).
///
/// WAL mode with `synchronous = NORMAL`: a commit writes the log without waiting for the disk, so the writes
/// every upload makes (the upload URL's file, then READY) do not queue behind one another's fsyncs, and reads
/// (descriptor polls) run beside them. A killed server loses nothing; a power cut may lose the last commits.
/// The default rollback journal with `synchronous = FULL` costs several fsyncs per commit, all queued behind
/// one another: on this project's test VM the server then managed under 100 small uploads a second.
struct MediaDatabase: Sendable {
    let queue: DatabasePool

    init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        queue = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(queue)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "file") { t in
                t.primaryKey("id", .text)
                t.column("displayName", .text).notNull()
                t.column("parentFolderId", .text).notNull().indexed()
                t.column("hash", .text)
                t.column("sizeInBytes", .integer).notNull()
                t.column("isPrivate", .boolean).notNull()
                t.column("mediaType", .text).notNull()
                t.column("mimeType", .text).notNull()
                t.column("operationStatus", .text).notNull()
                t.column("failureReason", .text)
                t.column("sourceUrl", .text)
                t.column("labels", .jsonText).notNull()
                t.column("externalOrigin", .text)
                t.column("externalIds", .jsonText).notNull()
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
                t.column("state", .text).notNull()
                t.column("parentBeforeTrash", .text)
            }
            try db.create(table: "folder") { t in
                t.primaryKey("id", .text)
                t.column("displayName", .text).notNull()
                t.column("parentFolderId", .text).notNull().indexed()
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
                t.column("state", .text).notNull()
                t.column("parentBeforeTrash", .text)
            }
            try db.create(table: "uploadURL") { t in
                t.primaryKey("nonce", .text)
                t.column("uploadId", .text).unique()
                t.column("fileId", .text)
            }
        }
        return migrator
    }

    // MARK: files

    func file(_ id: String) async throws -> FileRecord? {
        try await queue.read { db in try FileRecord.fetchOne(db, key: id) }
    }

    func insert(_ file: FileRecord) async throws {
        try await queue.write { db in try file.insert(db) }
    }

    func update(_ file: FileRecord) async throws {
        try await queue.write { db in try file.update(db) }
    }

    /// Reads, changes and writes one file in a single transaction, so concurrent changes (processing
    /// finishing while a request moves the file to the trash) never undo each other. `change` returns false
    /// to leave the file as it is. Returns the file as stored and whether it changed; nil when there is none.
    @discardableResult
    func modifyFile(_ id: String, _ change: @escaping @Sendable (inout FileRecord) throws -> Bool) async throws
        -> (file: FileRecord, changed: Bool)?
    {
        try await queue.write { db in
            guard var file = try FileRecord.fetchOne(db, key: id) else { return nil }
            let changed = try change(&file)
            if changed { try file.update(db) }
            return (file, changed)
        }
    }

    func deleteFile(_ id: String) async throws {
        _ = try await queue.write { db in try FileRecord.deleteOne(db, key: id) }
    }

    func files(status: OperationStatus) async throws -> [FileRecord] {
        try await queue.read { db in
            try FileRecord.filter(Column("operationStatus") == status.rawValue).fetchAll(db)
        }
    }

    /// One page of files matching `filter`, sorted, from `offset`.
    func files(matching filter: FileFilter, sort: Sorting?, offset: Int, limit: Int) async throws -> [FileRecord] {
        try await queue.read { db in
            var request = FileRecord.all()
            if let parent = filter.parentFolderId { request = request.filter(Column("parentFolderId") == parent) }
            if let state = filter.state { request = request.filter(Column("state") == state.rawValue) }
            if !filter.mediaTypes.isEmpty { request = request.filter(filter.mediaTypes.map(\.rawValue).contains(Column("mediaType"))) }
            if let isPrivate = filter.isPrivate { request = request.filter(Column("isPrivate") == isPrivate) }
            if let text = filter.search, !text.isEmpty {
                request = request.filter(Column("displayName").like("%\(text.replacingOccurrences(of: "%", with: ""))%"))
            }
            let column: String
            switch sort?.fieldName ?? "updatedDate" {
            case "displayName": column = "displayName"
            case "createdDate": column = "createdAt"
            case "sizeInBytes": column = "sizeInBytes"
            default: column = "updatedAt"
            }
            let descending = (sort?.order ?? .descending) == .descending
            request = request.order(
                descending ? Column(column).desc : Column(column).asc, descending ? Column("id").desc : Column("id").asc)
            return try request.limit(limit, offset: offset).fetchAll(db)
        }
    }

    // MARK: folders

    func folder(_ id: String) async throws -> FolderRecord? {
        try await queue.read { db in try FolderRecord.fetchOne(db, key: id) }
    }

    func insert(_ folder: FolderRecord) async throws {
        try await queue.write { db in try folder.insert(db) }
    }

    func update(_ folder: FolderRecord) async throws {
        try await queue.write { db in try folder.update(db) }
    }

    func deleteFolder(_ id: String) async throws {
        _ = try await queue.write { db in try FolderRecord.deleteOne(db, key: id) }
    }

    func folders(parent: String?, offset: Int, limit: Int, descending: Bool) async throws -> [FolderRecord] {
        try await queue.read { db in
            var request = FolderRecord.all()
            if let parent { request = request.filter(Column("parentFolderId") == parent) }
            request = request.order(descending ? Column("updatedAt").desc : Column("updatedAt").asc, Column("id").asc)
            return try request.limit(limit, offset: offset).fetchAll(db)
        }
    }

    /// The live folder named `name` directly under `parent`, created if missing (in one transaction).
    func folderNamed(_ name: String, under parent: String) async throws -> FolderRecord {
        try await queue.write { db in
            if let existing = try FolderRecord.filter(Column("parentFolderId") == parent && Column("displayName") == name
                && Column("state") == FileState.ok.rawValue).fetchOne(db)
            {
                return existing
            }
            let now = Date().timeIntervalSince1970
            let folder = FolderRecord(
                id: FolderID.make(), displayName: name, parentFolderId: parent, createdAt: now, updatedAt: now,
                state: FileState.ok.rawValue)
            try folder.insert(db)
            return folder
        }
    }

    // MARK: upload URLs

    /// Binds the tus upload `uploadID` to the upload URL `nonce`; false when the URL's token was already used.
    func claimUploadToken(nonce: String, uploadID: String) async throws -> Bool {
        try await queue.write { db in
            if let existing = try UploadURLRecord.fetchOne(db, key: nonce), existing.uploadId != nil || existing.fileId != nil {
                return false
            }
            try UploadURLRecord(nonce: nonce, uploadId: uploadID, fileId: nil).save(db)
            return true
        }
    }

    func uploadURL(_ nonce: String) async throws -> UploadURLRecord? {
        try await queue.read { db in try UploadURLRecord.fetchOne(db, key: nonce) }
    }

    /// Records that the upload URL `nonce` became file `fileID` and stores the file, in one transaction.
    /// Returns false (storing nothing) when the URL had already produced a file.
    func completeUpload(nonce: String, uploadID: String?, file: FileRecord) async throws -> Bool {
        try await queue.write { db in
            if let existing = try UploadURLRecord.fetchOne(db, key: nonce), existing.fileId != nil { return false }
            try UploadURLRecord(nonce: nonce, uploadId: uploadID, fileId: file.id).save(db)
            try file.insert(db)
            return true
        }
    }
}

/// What a listing or search selects.
struct FileFilter: Sendable {
    var parentFolderId: String?
    var state: FileState? = .ok
    var mediaTypes: [MediaType] = []
    var isPrivate: Bool?
    var search: String?
}

/// Folder ids: 32 lowercase hex digits, or one of the special folders.
enum FolderID {
    static func make() -> String {
        RandomHex.make(bytes: 16)
    }

    static func isValid(_ id: String) -> Bool {
        if [SpecialFolder.mediaRoot, SpecialFolder.trashRoot, SpecialFolder.visitorUploads].contains(id) { return true }
        return id.utf8.count == 32 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    static func isSpecial(_ id: String) -> Bool {
        [SpecialFolder.mediaRoot, SpecialFolder.trashRoot, SpecialFolder.visitorUploads].contains(id)
    }
}
