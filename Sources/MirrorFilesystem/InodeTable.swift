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
    /// A regular file: the only kind that is uploaded (symbolic links, FIFOs, sockets and device nodes stay local).
    let isRegularFile: Bool

    init(number: InodeNumber, descriptor: Int32, attributes: stat) {
        self.number = number
        self.descriptor = descriptor
        self.device = UInt64(attributes.st_dev)
        self.backingInode = UInt64(attributes.st_ino)
        self.isSymbolicLink = attributes.st_mode & S_IFMT == S_IFLNK
        self.isDirectory = attributes.st_mode & S_IFMT == S_IFDIR
        self.isRegularFile = attributes.st_mode & S_IFMT == S_IFREG
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

    /// One inode the kernel holds: how many lookups it counts, and the name it last looked it up by (what
    /// to invalidate to make it forget the inode).
    private struct Held {
        let inode: Inode
        var lookups: UInt64
        var parent: InodeNumber
        var name: FileName
        /// `State.clock` at the last lookup: the smallest are the coldest.
        var lastUsed: UInt64
    }

    private struct State {
        var inodes: [InodeNumber: Held] = [:]
        var byKey: [Key: InodeNumber] = [:]
        var nextNumber: InodeNumber = 2
        var clock: UInt64 = 0

        /// One more lookup of the known inode `number`, found as `name` in `parent`.
        mutating func countLookup(of number: InodeNumber, parent: InodeNumber, name: UnsafePointer<CChar>) {
            clock += 1
            var held = inodes[number]!
            held.lookups += 1
            held.lastUsed = clock
            if held.parent != parent || held.name.withCString({ strcmp($0, name) }) != 0 {
                held.parent = parent
                held.name = FileName(cString: name)
            }
            inodes[number] = held
        }
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

    /// The number the kernel knows the backing file by, if it holds it (no lookup counted).
    func number(device: UInt64, inode: UInt64) -> InodeNumber? {
        state.withLock { $0.byKey[Key(device: device, inode: inode)] }
    }

    /// Counts a lookup of an existing backing file, found as `name` in `parent`, if the table has it; returns
    /// its number.
    func lookupExisting(device: UInt64, inode: UInt64, parent: InodeNumber, name: UnsafePointer<CChar>) -> InodeNumber? {
        state.withLock { state in
            let key = Key(device: device, inode: inode)
            guard let number = state.byKey[key] else { return nil }
            if number != 1 { state.countLookup(of: number, parent: parent, name: name) }
            return number
        }
    }

    /// Counts a lookup of the backing file behind `descriptor` (an tusfs_O_PATH descriptor the table takes over:
    /// it is closed when the file is already known), found as `name` in `parent`.
    func insertOrLookup(descriptor: Int32, attributes: stat, parent: InodeNumber, name: UnsafePointer<CChar>) -> InodeNumber {
        let key = Key(device: UInt64(attributes.st_dev), inode: UInt64(attributes.st_ino))
        if key.device == root.device && key.inode == root.backingInode {
            close(descriptor)
            return 1
        }
        let fileName = FileName(cString: name)
        let (number, duplicate) = state.withLock { state -> (InodeNumber, Bool) in
            if let number = state.byKey[key] {
                state.countLookup(of: number, parent: parent, name: name)
                return (number, true)
            }
            state.clock += 1
            let number = state.nextNumber
            state.nextNumber += 1
            state.inodes[number] = Held(
                inode: Inode(number: number, descriptor: descriptor, attributes: attributes), lookups: 1, parent: parent,
                name: fileName, lastUsed: state.clock)
            state.byKey[key] = number
            return (number, false)
        }
        if duplicate { close(descriptor) }
        return number
    }

    /// The backing file now named `name` in `parent` (after a rename) is known by that name from now on.
    func renamed(device: UInt64, inode: UInt64, parent: InodeNumber, name: FileName) {
        state.withLock { state in
            guard let number = state.byKey[Key(device: device, inode: inode)], number != 1 else { return }
            state.inodes[number]!.parent = parent
            state.inodes[number]!.name = name
        }
    }

    /// The names of the `count` coldest inodes (files before directories, least recently looked up first),
    /// for the kernel to invalidate.
    func coldest(_ count: Int) -> [(parent: InodeNumber, name: FileName)] {
        guard count > 0 else { return [] }
        let all = state.withLock { state in
            state.inodes.values.map { (isDirectory: $0.inode.isDirectory, lastUsed: $0.lastUsed, parent: $0.parent, name: $0.name) }
        }
        return all.sorted { ($0.isDirectory ? 1 : 0, $0.lastUsed) < ($1.isDirectory ? 1 : 0, $1.lastUsed) }
            .prefix(count).map { ($0.parent, $0.name) }
    }

    /// Drops `count` lookups; the inode's descriptor is closed when none are left.
    func forget(_ number: InodeNumber, count: UInt64) {
        guard number != 1 else { return }
        let dropped = state.withLock { state -> Inode? in
            guard let held = state.inodes[number] else { return nil }
            if held.lookups > count {
                state.inodes[number]!.lookups = held.lookups - count
                return nil
            }
            state.inodes[number] = nil
            state.byKey[Key(device: held.inode.device, inode: held.inode.backingInode)] = nil
            return held.inode
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
