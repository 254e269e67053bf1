import FUSEAdapter
import Foundation
import MirrorFilesystem
import UploadEngine
import UploadStatus

/// Hands the mirror's file events to the upload engine (`UploadEngine.post` returns at once, so FUSE
/// threads never wait for the journal).
struct EngineObserver: MirrorObserver {
    let engine: UploadEngine

    func fileWritten(_ path: String) { engine.post(.written(path)) }

    func fileClosed(_ path: String, size: Int64) { engine.post(.closed(path, size: size)) }

    func renamed(from: String, to: String, isDirectory: Bool) {
        engine.post(isDirectory ? .directoryRenamed(from: from, to: to) : .renamed(from: from, to: to))
    }

    /// Two names swapped places (RENAME_EXCHANGE, used by no common copy tool): told to the engine as three
    /// renames through a name no user file has, so each uploaded file keeps its remote copy and only its
    /// name changes (directories: everything below them).
    func exchanged(_ first: String, _ second: String) {
        // (NSString.deletingLastPathComponent traps on some names; plain string work instead.)
        let parent = first.lastIndex(of: "/").map { String(first[...$0]) } ?? ""
        let temporary = parent + ".tusfs-exchange-" + UUID().uuidString
        for (from, to) in [(first, temporary), (second, first), (temporary, second)] {
            // The engine moves records by path; for a file it uses `renamed`, for a directory the records below.
            engine.post(.renamed(from: from, to: to))
            engine.post(.directoryRenamed(from: from, to: to))
        }
    }

    /// A removed file is cancelled or moved to the service's trash. An empty directory that goes away
    /// leaves its remote folder as it is (folders are created on demand by uploads; see README).
    func removed(_ path: String, isDirectory: Bool) {
        if !isDirectory { engine.post(.removed(path)) }
    }

    /// Directories become folders on the service when the first file under them is uploaded.
    func directoryCreated(_ path: String) {}
}

/// Answers the mirror's status questions from the engine's in-memory snapshot: never waits for the engine.
struct EngineStatusProvider: MirrorStatusProvider {
    let engine: UploadEngine

    func statusAttributes(of path: String) -> [StatusAttribute]? {
        guard let record = engine.currentStatus(of: path) else { return nil }
        return record.statusAttributes.map {
            StatusAttribute(String($0.name.dropFirst(StatusNames.attributePrefix.count)), $0.value)
        }
    }

    func sidecar(of path: String) -> [UInt8]? {
        guard let record = engine.currentStatus(of: path), let json = try? record.sidecarJSON() else { return nil }
        return Array(json) + [UInt8(ascii: "\n")]
    }

    func statusDocument() -> [UInt8] {
        engine.currentStatusJSON() + [UInt8(ascii: "\n")]
    }

    func subtreeSummary(of path: String) -> [UInt8] {
        engine.currentSubtreeSummary(of: path).jsonBytes()
    }

    /// Retries a failed upload now; a file in another state is left alone. A file the engine does not know
    /// (a directory, a file never written through the mount) answers ENODATA.
    func retry(_ path: String) throws(FilesystemError) {
        guard engine.currentStatus(of: path) != nil else { throw .noData }
        engine.post(.retry(path))
    }
}
