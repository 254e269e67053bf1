import Foundation
import MirrorFilesystem
import UploadEngine

/// Hands the mirror's file events to the upload engine (`UploadEngine.post` returns at once, so FUSE
/// threads never wait for the journal).
public struct EngineObserver: MirrorObserver {
    let events: any FileEventSink

    /// Posts every event to `events` (the engine, in a mount).
    public init(events: any FileEventSink) {
        self.events = events
    }

    public func fileWritten(_ path: String) { events.post(.written(path)) }

    public func fileClosed(_ path: String, size: Int64) { events.post(.closed(path, size: size)) }

    public func renamed(from: String, to: String, isDirectory: Bool) {
        events.post(isDirectory ? .directoryRenamed(from: from, to: to) : .renamed(from: from, to: to))
    }

    /// Two names swapped places (RENAME_EXCHANGE, used by no common copy tool): told to the engine as three
    /// renames through a name no user file has, so each uploaded file keeps its remote copy and only its
    /// name changes (directories: everything below them).
    public func exchanged(_ first: String, _ second: String) {
        // (NSString.deletingLastPathComponent traps on some names; plain string work instead.)
        let parent = first.lastIndex(of: "/").map { String(first[...$0]) } ?? ""
        let temporary = parent + ".tusfs-exchange-" + UUID().uuidString
        for (from, to) in [(first, temporary), (second, first), (temporary, second)] {
            // The engine moves records by path; for a file it uses `renamed`, for a directory the records below.
            events.post(.renamed(from: from, to: to))
            events.post(.directoryRenamed(from: from, to: to))
        }
    }

    /// A removed file is cancelled or moved to the service's trash. An empty directory that goes away
    /// leaves its remote folder as it is (folders are created on demand by uploads; see README).
    public func removed(_ path: String, isDirectory: Bool) {
        if !isDirectory { events.post(.removed(path)) }
    }

    /// Directories become folders on the service when the first file under them is uploaded.
    public func directoryCreated(_ path: String) {}
}
