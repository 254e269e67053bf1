import Foundation
import Synchronization
import UploadEngine
import UploadStatus

/// A service kept in memory: every upload is stored at once under a new id, renames and deletes are applied
/// to the stored names.
final class InMemoryUploadTarget: UploadTarget {
    private let stored = Mutex<(names: [String: String], next: Int)>(([:], 0))

    /// Stored files: remote id → name.
    var names: [String: String] { stored.withLock { $0.names } }

    func upload(
        file: String, remotePath: String, size: Int64, resume: ResumeData?,
        onResumeData: @escaping @Sendable (ResumeData) async -> Void,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws(UploadTargetError) -> UploadOutcome {
        guard FileManager.default.fileExists(atPath: file) else { throw .permanent("no such file \(file)") }
        progress(size)
        let id = stored.withLock { state in
            state.next += 1
            let id = "id-\(state.next)"
            state.names[id] = remotePath
            return id
        }
        return .stored(RemoteFile(remoteId: id))
    }

    func delete(remoteId: String) async throws(UploadTargetError) {
        _ = stored.withLock { $0.names.removeValue(forKey: remoteId) }
    }

    func rename(remoteId: String, to newRemotePath: String) async throws(UploadTargetError) {
        stored.withLock { $0.names[remoteId] = newRemotePath }
    }

    func terminate(resume: ResumeData) async throws(UploadTargetError) {}

    func probe() async throws(UploadTargetError) {}
}
