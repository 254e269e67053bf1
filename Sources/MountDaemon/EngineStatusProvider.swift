import FUSEAdapter
import MirrorFilesystem
import Synchronization
import UploadEngine
import UploadStatus

/// Answers the mirror's status questions from the engine's in-memory snapshot: never waits for the engine.
public struct EngineStatusProvider: MirrorStatusProvider {
    let engine: UploadEngine
    /// The name a mount-relative path's file has on the service, shown as `user.tusfs.remote_name` and the
    /// sidecar's `remote_name`.
    let remoteName: @Sendable (String) -> String?

    /// Reads `engine`'s status read model; `remoteName` names files on the service (nil: not shown).
    public init(engine: UploadEngine, remoteName: @escaping @Sendable (String) -> String? = { _ in nil }) {
        self.engine = engine
        self.remoteName = remoteName
    }

    public func statusAttributes(of path: String) -> [StatusAttribute]? {
        guard let record = engine.currentStatus(of: path) else { return nil }
        var attributes = record.statusAttributes.map {
            StatusAttribute(String($0.name.dropFirst(StatusNames.attributePrefix.count)), $0.value)
        }
        if let name = remoteName(path) { attributes.append(StatusAttribute(StatusNames.remoteNameKey, name)) }
        return attributes
    }

    public func sidecar(of path: String) -> [UInt8]? {
        guard let record = engine.currentStatus(of: path), let json = try? record.sidecarJSON(remoteName: remoteName(path))
        else { return nil }
        return Array(json) + [UInt8(ascii: "\n")]
    }

    public func statusDocument(under directory: String) -> StreamedDocument {
        let document = engine.currentDocument(under: directory)
        let ended = Mutex(false)
        return StreamedDocument {
            if let piece = document.next() { return piece }
            return ended.withLock { ended in
                defer { ended = true }
                return ended ? nil : [UInt8(ascii: "\n")]
            }
        }
    }

    public func subtreeSummary(of path: String) -> [UInt8] {
        engine.currentSubtreeSummary(of: path).jsonBytes()
    }

    /// Retries a failed upload now; a file in another state is left alone. A file the engine does not know
    /// (a directory, a file never written through the mount) answers ENODATA.
    public func retry(_ path: String) throws(FilesystemError) {
        guard engine.currentStatus(of: path) != nil else { throw .noData }
        engine.post(.retry(path))
    }
}
