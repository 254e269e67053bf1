import CFuse
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// FUSE passthrough (Linux 6.9+): the kernel reads and writes an open file's backing file itself, so data
/// never crosses into the daemon. libfuse 3.14 predates it, so tusfs adds it through libfuse's custom I/O
/// hooks: the INIT reply asks for it, and each open reply carries the id of a backing file registered with
/// an ioctl on /dev/fuse. Where the kernel or the privileges do not allow it, the first failed registration
/// turns it off and files are served through the daemon as before.
final class Passthrough: Sendable {
    private struct State {
        var device: Int32 = -1
        var initUnique: UInt64 = 0
        var available = true
        /// Backing ids waiting for their open reply, by file handle.
        var pending: [UInt64: Int32] = [:]
        /// The inode of each passed-through open file.
        var inodeOfHandle: [UInt64: UInt64] = [:]
        /// One backing id per inode, shared by all its open files (the kernel requires every passthrough open
        /// of an inode to use the same backing file), with the count of open files using it.
        var backingOfInode: [UInt64: (id: Int32, users: Int)] = [:]
    }

    private let state = Mutex(State())
    let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled }

    func attach(device: Int32) { state.withLock { $0.device = device } }

    /// Registers the open file `handle` (a descriptor of the backing file of `inode`). True when its open
    /// reply will hand it to the kernel.
    func prepare(handle: UInt64, inode: UInt64) -> Bool {
        guard enabled else { return false }
        return state.withLock { state in
            guard state.available, state.device >= 0 else { return false }
            let id: Int32
            if let shared = state.backingOfInode[inode] {
                id = shared.id
                state.backingOfInode[inode]!.users += 1
            } else {
                id = tusfs_backing_open(state.device, Int32(truncatingIfNeeded: handle))
                guard id >= 0 else {
                    state.available = false  // not supported here (old kernel, no privilege): stop trying
                    return false
                }
                state.backingOfInode[inode] = (id, 1)
            }
            state.pending[handle] = id
            state.inodeOfHandle[handle] = inode
            return true
        }
    }

    /// The open reply was not delivered: forget the registration.
    func cancel(handle: UInt64) { released(handle: handle) }

    func released(handle: UInt64) {
        let closing = state.withLock { state -> (Int32, Int32)? in
            state.pending[handle] = nil
            guard let inode = state.inodeOfHandle.removeValue(forKey: handle),
                let shared = state.backingOfInode[inode]
            else { return nil }
            if shared.users > 1 {
                state.backingOfInode[inode]!.users -= 1
                return nil
            }
            state.backingOfInode[inode] = nil
            return (state.device, shared.id)
        }
        if let (device, id) = closing { _ = tusfs_backing_close(device, id) }
    }

    // MARK: the custom I/O hooks

    func sawRequest(_ buffer: UnsafeRawPointer, length: Int) {
        guard enabled, tusfs_request_opcode(buffer, length) == 26 else { return }  // FUSE_INIT
        let unique = tusfs_request_unique(buffer)
        state.withLock { $0.initUnique = unique }
    }

    func willSend(_ iov: UnsafeMutablePointer<iovec>, count: Int32) {
        guard enabled else { return }
        let unique = tusfs_reply_unique(iov)
        let (isInit, hasPending) = state.withLock { ($0.initUnique != 0 && $0.initUnique == unique, !$0.pending.isEmpty) }
        if isInit {
            tusfs_request_passthrough(iov, count)
            state.withLock { $0.initUnique = 0 }
            return
        }
        guard hasPending, let open = tusfs_open_reply(iov, count) else { return }
        let handle = tusfs_open_reply_handle(open)
        if let id = state.withLock({ $0.pending.removeValue(forKey: handle) }) {
            tusfs_open_reply_passthrough(open, id)
        }
    }
}

/// libfuse's custom I/O: plain read/writev on /dev/fuse, with a look at INIT and open replies on the way,
/// and splice(2) for replies carrying file data (`spliceReplies`) and for requests (`spliceRequests`): without
/// the hooks libfuse would not offer splice to the kernel at all, and every read the daemon serves would be
/// copied through a buffer.
func makeCustomIO(spliceReplies: Bool, spliceRequests: Bool) -> fuse_custom_io {
    var io = fuse_custom_io()
    tusfs_io_set_splice(&io, spliceReplies ? 1 : 0, spliceRequests ? 1 : 0)
    io.read = { fd, buffer, length, userdata in
        let count = read(fd, buffer, length)
        if count > 0, let buffer, let userdata {
            Unmanaged<SessionContext>.fromOpaque(userdata).takeUnretainedValue().passthrough
                .sawRequest(buffer, length: count)
        }
        return count
    }
    io.writev = { fd, iov, count, userdata in
        if let iov, let userdata {
            Unmanaged<SessionContext>.fromOpaque(userdata).takeUnretainedValue().passthrough.willSend(iov, count: count)
        }
        return writev(fd, iov, count)
    }
    return io
}
