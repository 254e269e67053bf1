import Foundation
import UploadStatus

/// What the mirror filesystem reports, turned into the state machine's events.
extension UploadEngine {
    func apply(_ event: FileEvent) throws(UploadJournalError) {
        switch event {
        case .written(let path): try fileWritten(path)
        case .closed(let path, let size): try fileClosed(path, size: size)
        case .renamed(let from, let to): try fileRenamed(from: from, to: to)
        case .directoryRenamed(let from, let to): try directoryRenamed(from: from, to: to)
        case .removed(let path): try fileRemoved(path)
        case .retry(let path): try retry(path)
        }
    }

    /// A file was opened for writing or written to. Sends it back to `local`; a running upload of an earlier
    /// version is cancelled and terminated on the server. Cheap when the file is already `local`.
    public func fileWritten(_ path: String) throws(UploadJournalError) {
        try handle(.written, at: path, createIfMissing: true)
    }

    /// The last writer closed the file; `size` is its size in the cache. The upload starts after the
    /// write-back delay unless the file is written, renamed or removed before.
    public func fileClosed(_ path: String, size: Int64) throws(UploadJournalError) {
        if try knownRecord(at: path) == nil { try handle(.written, at: path, createIfMissing: true) }
        try handle(.closed(size: size), at: path)
    }

    /// The file was renamed. A record already at `to` is replaced (as if `to` were removed first). A file
    /// the journal did not know is uploaded under its new name, as if it had just been closed there.
    public func fileRenamed(from: String, to: String) throws(UploadJournalError) {
        guard from != to else { return }
        if try knownRecord(at: to) != nil { try handle(.removed, at: to) }
        if try knownRecord(at: from) != nil {
            try handle(.renamed(to: to), at: from)
        } else if let size = fileSize(to, regularOnly: true) {
            try fileClosed(to, size: size)
        }
    }

    /// A directory was renamed: every file under it is renamed the same way.
    public func directoryRenamed(from: String, to: String) throws(UploadJournalError) {
        let prefix = from + "/"
        let paths = Set(records.keys.filter { $0.hasPrefix(prefix) }).union(try journal.paths(under: from))
        for path in paths.sorted() {
            try fileRenamed(from: path, to: to + "/" + path.dropFirst(prefix.count))
        }
    }

    /// The file was unlinked: a pending or running upload is cancelled and terminated on the server, an
    /// uploaded file is moved to the service's trash.
    public func fileRemoved(_ path: String) throws(UploadJournalError) {
        try handle(.removed, at: path)
    }

    /// The user asked to retry a failed file (`setfattr -n user.tusfs.retry`). Does nothing in other states.
    public func retry(_ path: String) throws(UploadJournalError) {
        try handle(.retryRequested, at: path)
    }
}
