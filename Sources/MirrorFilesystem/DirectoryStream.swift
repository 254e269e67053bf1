import CLinux
import FUSEAdapter
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An open directory: a `DIR*` on the backing directory and the offset the kernel last read up to.
///
/// Its address is the handle given to the kernel, so readdir needs no table lookup.
final class DirectoryStream: Sendable {
    private struct State: @unchecked Sendable {
        // @unchecked: the DIR* is only used under this Mutex.
        var directory: OpaquePointer
        var offset: off_t = 0
    }

    private let state: Mutex<State>

    init(inode: Inode) throws(FilesystemError) {
        let descriptor = try SystemCall.descriptor(openat(inode.descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
        guard let directory = fdopendir(descriptor) else {
            let error = FilesystemError.lastSystemCall
            close(descriptor)
            throw error
        }
        state = Mutex(State(directory: directory))
    }

    deinit {
        state.withLock { _ = closedir($0.directory) }
    }

    /// The handle for the kernel; it holds a reference to the stream until `release(handle:)`.
    func retainedHandle() -> UInt64 { UInt64(UInt(bitPattern: Unmanaged.passRetained(self).toOpaque())) }

    static func from(handle: UInt64) -> DirectoryStream {
        Unmanaged<DirectoryStream>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(handle))!).takeUnretainedValue()
    }

    static func release(handle: UInt64) {
        Unmanaged<DirectoryStream>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(handle))!).release()
    }

    /// Reads entries from `offset`; `visit` returns false to stop before an entry (it is read again next time).
    func read(from offset: off_t, visit: (UnsafePointer<CChar>, UInt64, UInt8, off_t) throws(FilesystemError) -> Bool)
        throws(FilesystemError)
    {
        try state.withLock { (state: inout State) throws(FilesystemError) in
            if offset != state.offset {
                seekdir(state.directory, Int(offset))
                state.offset = offset
            }
            while true {
                errno = 0
                guard let entry = readdir(state.directory) else {
                    if errno != 0 { throw FilesystemError.lastSystemCall }
                    return
                }
                let accepted = try withUnsafePointer(to: &entry.pointee.d_name) { (tuple) throws(FilesystemError) -> Bool in
                    try tuple.withMemoryRebound(to: CChar.self, capacity: 256) { (name) throws(FilesystemError) -> Bool in
                        try visit(name, UInt64(entry.pointee.d_ino), entry.pointee.d_type, entry.pointee.d_off)
                    }
                }
                if !accepted {
                    seekdir(state.directory, Int(state.offset))
                    return
                }
                state.offset = entry.pointee.d_off
            }
        }
    }
}
