import UploadStatus
/// A change on the service that a state change made necessary: kept in the journal's outbox in the same
/// transaction as that state change, and deleted once the service has done it, so a crash in between
/// repeats it at the next start instead of leaving an orphan.
public enum RemoteOperation: Sendable, Hashable {
    /// Delete an unfinished upload (tus DELETE).
    case terminate(ResumeData)
    /// Move a stored file to the trash.
    case delete(remoteId: String)
    /// Rename or move a stored file.
    case rename(remoteId: String, newPath: String)

    /// What the operation acts on: operations on the same subject must run in order.
    var subject: String {
        switch self {
        case .terminate(let resume): "upload:" + resume.json
        case .delete(let remoteId), .rename(let remoteId, _): "file:" + remoteId
        }
    }

    /// The outbox entry for an action, when the action changes something on the service.
    init?(_ action: UploadAction) {
        switch action {
        case .terminateRemoteUpload(let resume): self = .terminate(resume)
        case .deleteRemote(let remoteId): self = .delete(remoteId: remoteId)
        case .renameRemote(let remoteId, let newPath): self = .rename(remoteId: remoteId, newPath: newPath)
        default: return nil
        }
    }
}

/// An outbox entry with its journal id.
public struct PendingRemoteOperation: Sendable, Hashable {
    public var id: Int64
    public var operation: RemoteOperation
}
