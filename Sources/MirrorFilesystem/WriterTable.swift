import FUSEAdapter
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Which open handles may write, and which have written, per inode: so that "closed after writing" is
/// reported once, when the last writing handle of a file is released.
final class WriterTable: Sendable {
    /// What a file looked like when its first writer opened it: with FUSE passthrough the kernel writes to
    /// the backing file itself, so a change is seen by comparing at the last close.
    struct Snapshot: Equatable {
        var modified: timespec
        var size: Int64

        static func == (a: Snapshot, b: Snapshot) -> Bool {
            a.size == b.size && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
        }
    }

    private struct FileWriters {
        var openHandles: Set<UInt64> = []
        var written = false
        var reported = false
        var snapshot: Snapshot?
    }

    private struct State {
        var files: [InodeNumber: FileWriters] = [:]
        var inodeOfHandle: [UInt64: InodeNumber] = [:]
    }

    private let state = Mutex(State())

    /// A handle opened for writing; `snapshot` is the file as it is now.
    func opened(_ handle: UInt64, of inode: InodeNumber, snapshot: Snapshot?) {
        state.withLock {
            if $0.files[inode] == nil { $0.files[inode] = FileWriters(snapshot: snapshot) }
            $0.files[inode]!.openHandles.insert(handle)
            $0.inodeOfHandle[handle] = inode
        }
    }

    /// A write through `handle`; true the first time the file is written since it was last reported closed.
    func wrote(through handle: UInt64) -> Bool {
        state.withLock { state in
            guard let inode = state.inodeOfHandle[handle], !state.files[inode]!.written else { return false }
            state.files[inode]!.written = true
            state.files[inode]!.reported = true
            return true
        }
    }

    /// Contents changed without a handle (truncate by path); true when no writer is open, so the change is
    /// complete at once.
    func changedWithoutHandle(_ inode: InodeNumber) -> (firstChange: Bool, complete: Bool) {
        state.withLock { state in
            guard var writers = state.files[inode] else { return (true, true) }
            let first = !writers.reported
            writers.written = true
            writers.reported = true
            state.files[inode] = writers
            return (first, false)
        }
    }

    /// What a release means for the file.
    struct Release {
        var inode: InodeNumber
        /// It was the file's last writing handle.
        var wasLastWriter: Bool
        /// Writes went through the daemon.
        var written: Bool
        /// `fileWritten` was already reported.
        var reported: Bool
        var snapshot: Snapshot?
    }

    /// A handle was released.
    func released(_ handle: UInt64) -> Release? {
        state.withLock { state in
            guard let inode = state.inodeOfHandle.removeValue(forKey: handle) else { return nil }
            state.files[inode]!.openHandles.remove(handle)
            guard state.files[inode]!.openHandles.isEmpty else {
                return Release(inode: inode, wasLastWriter: false, written: false, reported: false)
            }
            let file = state.files.removeValue(forKey: inode)!
            return Release(
                inode: inode, wasLastWriter: true, written: file.written, reported: file.reported, snapshot: file.snapshot)
        }
    }
}
