import CLinux
import FUSEAdapter
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A file the kernel knows by inode number: an tusfs_O_PATH descriptor of the backing file, so that renames of it or
/// of its parents never invalidate it, and its identity on the backing filesystem.
final class Inode: Sendable {
    let number: InodeNumber
    /// tusfs_O_PATH descriptor of the backing file or directory.
    let descriptor: Int32
    let device: UInt64
    let backingInode: UInt64
    let isSymbolicLink: Bool
    let isDirectory: Bool

    init(number: InodeNumber, descriptor: Int32, attributes: stat) {
        self.number = number
        self.descriptor = descriptor
        self.device = UInt64(attributes.st_dev)
        self.backingInode = UInt64(attributes.st_ino)
        self.isSymbolicLink = attributes.st_mode & S_IFMT == S_IFLNK
        self.isDirectory = attributes.st_mode & S_IFMT == S_IFDIR
    }
}

/// The inodes the kernel holds references to, with their lookup counts.
///
/// Inode numbers are our own (a counter, never reused), so a backing inode number recycled by the disk can
/// never be confused with one the kernel still remembers. Hard links resolve to the same entry through
/// (device, backing inode).
final class InodeTable: Sendable {
    private struct Key: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private struct State {
        var inodes: [InodeNumber: (inode: Inode, lookups: UInt64)] = [:]
        var byKey: [Key: InodeNumber] = [:]
        var nextNumber: InodeNumber = 2
    }

    private let state = Mutex(State())
    /// The root directory (inode 1), never forgotten.
    let root: Inode

    init(rootDescriptor: Int32) throws(FilesystemError) {
        let attributes = try SystemCall.status(of: rootDescriptor)
        root = Inode(number: 1, descriptor: rootDescriptor, attributes: attributes)
    }

    /// The inode for `number`, or ESTALE when the kernel names one we do not know. Virtual files (sidecars,
    /// the control directory) have no backing inode: operations that need one are not permitted on them.
    func inode(_ number: InodeNumber) throws(FilesystemError) -> Inode {
        if number == 1 { return root }
        if VirtualNodes.isVirtual(number) { throw .notPermitted }
        guard let inode = state.withLock({ $0.inodes[number]?.inode }) else { throw FilesystemError(ESTALE) }
        return inode
    }

    /// Counts a lookup of an existing backing file, if the table has it; returns its number.
    func lookupExisting(device: UInt64, inode: UInt64) -> InodeNumber? {
        state.withLock { state in
            let key = Key(device: device, inode: inode)
            guard let number = state.byKey[key] else { return nil }
            if number != 1 { state.inodes[number]!.lookups += 1 }
            return number
        }
    }

    /// Counts a lookup of the backing file behind `descriptor` (an tusfs_O_PATH descriptor the table takes over:
    /// it is closed when the file is already known).
    func insertOrLookup(descriptor: Int32, attributes: stat) -> InodeNumber {
        let key = Key(device: UInt64(attributes.st_dev), inode: UInt64(attributes.st_ino))
        if key.device == root.device && key.inode == root.backingInode {
            close(descriptor)
            return 1
        }
        let (number, duplicate) = state.withLock { state -> (InodeNumber, Bool) in
            if let number = state.byKey[key] {
                state.inodes[number]!.lookups += 1
                return (number, true)
            }
            let number = state.nextNumber
            state.nextNumber += 1
            state.inodes[number] = (Inode(number: number, descriptor: descriptor, attributes: attributes), 1)
            state.byKey[key] = number
            return (number, false)
        }
        if duplicate { close(descriptor) }
        return number
    }

    /// Drops `count` lookups; the inode's descriptor is closed when none are left.
    func forget(_ number: InodeNumber, count: UInt64) {
        guard number != 1 else { return }
        let dropped = state.withLock { state -> Inode? in
            guard let (inode, lookups) = state.inodes[number] else { return nil }
            if lookups > count {
                state.inodes[number]!.lookups = lookups - count
                return nil
            }
            state.inodes[number] = nil
            state.byKey[Key(device: inode.device, inode: inode.backingInode)] = nil
            return inode
        }
        if let dropped { close(dropped.descriptor) }
    }

    /// Number of inodes the kernel holds (root excluded).
    var count: Int { state.withLock { $0.inodes.count } }

    /// Closes every descriptor (at unmount).
    func closeAll() {
        let all = state.withLock { state -> [Inode] in
            let all = state.inodes.values.map(\.inode)
            state.inodes = [:]
            state.byKey = [:]
            return all
        }
        for inode in all { close(inode.descriptor) }
    }
}
