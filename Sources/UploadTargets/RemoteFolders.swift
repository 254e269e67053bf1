import Foundation
import Logging
import MediaManagerAPI
import MediaManagerClient

/// The ids of Media Manager folders by path, found by walking `listFolders` down from `media-root`, created
/// when asked to, and cached.
///
/// Concurrent requests for the same missing folder share one creation. Another client (or the service's own
/// `filePath` handling of an upload URL) may still create a folder of the same name at the same moment; after
/// creating one, the folder is looked up again and the oldest of the same name is used, so every caller ends
/// up in the same folder (ours, if it lost, is moved to the trash while still empty).
///
/// A cached id is checked (one `GET /folders/{id}`) before it is used to move a file, and forgotten when the
/// folder is gone or in the trash.
actor RemoteFolders {
    private let client: MediaManagerClient
    private let logger: Logger
    /// Folder id by path (names joined with `/`, which no name contains).
    private var known: [String: String] = [:]
    /// Creations under way, by path.
    private var creating: [String: Task<String, any Error>] = [:]

    init(client: MediaManagerClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The id of the folder at `path` (names from `media-root` down), or nil when some folder on the way does
    /// not exist. Creates nothing.
    func existingID(of path: [String]) async throws -> String? {
        var parent = SpecialFolder.mediaRoot
        for depth in path.indices {
            let key = Self.key(path[...depth])
            if let id = known[key] {
                parent = id
                continue
            }
            guard let id = try await child(named: path[depth], of: parent) else { return nil }
            known[key] = id
            parent = id
        }
        return parent
    }

    /// The id of the folder at `path`, creating the folders that are missing.
    func id(of path: [String]) async throws -> String {
        guard let name = path.last else { return SpecialFolder.mediaRoot }
        let key = Self.key(path[...])
        if let id = known[key] { return id }
        if let running = creating[key] { return try await running.value }
        let parentPath = Array(path.dropLast())
        let task = Task { () async throws -> String in
            let parent = try await self.id(of: parentPath)
            return try await self.findOrCreate(name, in: parent)
        }
        creating[key] = task
        defer { creating[key] = nil }
        let id = try await task.value
        known[key] = id
        return id
    }

    /// The id of the folder at `path` as ``id(of:)`` finds it, after checking that a cached id still names a
    /// live folder.
    func verifiedID(of path: [String]) async throws -> String {
        let key = Self.key(path[...])
        if let cached = known[key] {
            let live: Bool
            do {
                let folder = try await client.folder(id: cached)
                live = folder.state != .deleted && folder.parentFolderId != SpecialFolder.trashRoot
            } catch let error as MediaManagerError where error.status == 404 {
                live = false
            }
            if !live {
                logger.debug("cached folder is gone, looking it up again", metadata: ["folder": "\(key)"])
                forget(path)
            }
        }
        return try await id(of: path)
    }

    /// Drops the cached ids of `path` and of every folder below it.
    func forget(_ path: [String]) {
        let key = Self.key(path[...])
        known = known.filter { $0.key != key && !$0.key.hasPrefix(key + "/") }
    }

    private func findOrCreate(_ name: String, in parent: String) async throws -> String {
        if let existing = try await child(named: name, of: parent) { return existing }
        let created = try await client.createFolder(displayName: name, parentFolderId: parent)
        logger.debug("created folder", metadata: ["name": "\(name)", "id": "\(created.id)"])
        // Someone may have created the same folder at the same time: settle on the oldest.
        if let oldest = try await child(named: name, of: parent), oldest != created.id {
            logger.debug("folder was created twice, using the older one", metadata: ["name": "\(name)", "id": "\(oldest)"])
            try? await client.deleteFolders(ids: [created.id])
            return oldest
        }
        return created.id
    }

    /// The oldest live folder named `name` directly under `parent`.
    private func child(named name: String, of parent: String) async throws -> String? {
        var paging = CursorPaging(limit: 100)
        var matches: [Folder] = []
        while true {
            let page = try await client.listFolders(parentFolderId: parent, paging: paging)
            matches += page.folders.filter { $0.displayName == name && $0.state != .deleted }
            guard let next = page.nextCursor, next.hasNext, let cursor = next.cursors.next else { break }
            paging.cursor = cursor
        }
        let oldest = matches.min { a, b in
            let (da, db) = (a.createdDate.flatMap(ISO8601.parse) ?? .distantFuture, b.createdDate.flatMap(ISO8601.parse) ?? .distantFuture)
            return da != db ? da < db : a.id < b.id
        }
        return oldest?.id
    }

    private static func key(_ path: ArraySlice<String>) -> String { path.joined(separator: "/") }
}
