/// A folder in the Media Manager.
public struct Folder: Codable, Sendable, Equatable {
    public var id: String
    public var displayName: String?
    public var parentFolderId: String?
    public var createdDate: String?
    public var updatedDate: String?
    public var state: FileState?
    public init(
        id: String, displayName: String? = nil, parentFolderId: String? = nil, createdDate: String? = nil,
        updatedDate: String? = nil, state: FileState? = nil
    ) {
        self.id = id
        self.displayName = displayName
        self.parentFolderId = parentFolderId
        self.createdDate = createdDate
        self.updatedDate = updatedDate
        self.state = state
    }
}

/// Body of `POST /folders`.
public struct CreateFolderRequest: Codable, Sendable, Equatable {
    public var displayName: String
    /// Default `media-root`.
    public var parentFolderId: String?
    public init(displayName: String, parentFolderId: String? = nil) {
        self.displayName = displayName
        self.parentFolderId = parentFolderId
    }
}

/// `{ "folder": Folder }`: answer of create, get and update folder.
public struct FolderResponse: Codable, Sendable, Equatable {
    public var folder: Folder
    public init(folder: Folder) { self.folder = folder }
}

/// Answer of `GET /folders` (query: `parentFolderId`, `sort.*`, `paging.*` as in ``ListFilesQuery``).
public struct ListFoldersResponse: Codable, Sendable, Equatable {
    public var folders: [Folder]
    public var nextCursor: PagingMetadata?
    public init(folders: [Folder], nextCursor: PagingMetadata? = nil) {
        self.folders = folders
        self.nextCursor = nextCursor
    }
}

/// The fields of a folder that `PATCH /folders/{id}` can change.
public struct FolderUpdate: Codable, Sendable, Equatable {
    public var id: String?
    public var displayName: String?
    public var parentFolderId: String?
    public init(id: String? = nil, displayName: String? = nil, parentFolderId: String? = nil) {
        self.id = id
        self.displayName = displayName
        self.parentFolderId = parentFolderId
    }
}

/// Body of `PATCH /folders/{id}`.
public struct UpdateFolderRequest: Codable, Sendable, Equatable {
    public var folder: FolderUpdate
    public var fieldMask: FieldMask?
    public init(folder: FolderUpdate, fieldMask: FieldMask? = nil) {
        self.folder = folder
        self.fieldMask = fieldMask
    }
}
