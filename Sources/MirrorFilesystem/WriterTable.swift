import FUSEAdapter
import Synchronization

/// Which open handles may write, and which have written, per inode: so that "closed after writing" is
/// reported once, when the last writing handle of a file is released.
final class WriterTable: Sendable {
    private struct FileWriters {
        var openHandles: Set<UInt64> = []
        var written = false
    }

    private struct State {
        var files: [InodeNumber: FileWriters] = [:]
        var inodeOfHandle: [UInt64: InodeNumber] = [:]
    }

    private let state = Mutex(State())

    /// A handle opened for writing.
    func opened(_ handle: UInt64, of inode: InodeNumber) {
        state.withLock {
            $0.files[inode, default: FileWriters()].openHandles.insert(handle)
            $0.inodeOfHandle[handle] = inode
        }
    }

    /// A write through `handle`; true the first time the file is written since it was last reported closed.
    func wrote(through handle: UInt64) -> Bool {
        state.withLock { state in
            guard let inode = state.inodeOfHandle[handle], !state.files[inode]!.written else { return false }
            state.files[inode]!.written = true
            return true
        }
    }

    /// Contents changed without a handle (truncate by path); true when no writer is open, so the change is
    /// complete at once.
    func changedWithoutHandle(_ inode: InodeNumber) -> (firstChange: Bool, complete: Bool) {
        state.withLock { state in
            guard var writers = state.files[inode] else { return (true, true) }
            let first = !writers.written
            writers.written = true
            state.files[inode] = writers
            return (first, false)
        }
    }

    /// A handle was released; true when it was the file's last writing handle and the file was written.
    func released(_ handle: UInt64) -> (inode: InodeNumber, wasLastWriter: Bool)? {
        state.withLock { state in
            guard let inode = state.inodeOfHandle.removeValue(forKey: handle) else { return nil }
            state.files[inode]!.openHandles.remove(handle)
            guard state.files[inode]!.openHandles.isEmpty else { return (inode, false) }
            let written = state.files.removeValue(forKey: inode)!.written
            return (inode, written)
        }
    }
}
