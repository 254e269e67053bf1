import CLinux
import FUSEAdapter
#if canImport(Glibc)
import Glibc
#endif

// Extended attributes: the `user.` namespace is stored on the backing file. Other namespaces are not
// offered (the daemon runs privileged; `trusted.`/`security.` must not be writable through the mount), and
// EOPNOTSUPP for them makes `cp -a`/`rsync -X` skip them quietly.
extension MirrorFilesystem {
    static let userNamespace = "user."

    public func setExtendedAttribute(_ number: InodeNumber, name: String, value: [UInt8], flags: Int32)
        throws(FilesystemError)
    {
        let inode = try inodes.inode(number)
        guard name.hasPrefix(Self.userNamespace) else { throw .notSupported }
        guard !inode.isSymbolicLink else { throw .notPermitted }
        try SystemCall.check(setxattr(SystemCall.procPath(inode.descriptor), name, value, value.count, flags))
    }

    public func extendedAttribute(_ number: InodeNumber, name: String) throws(FilesystemError) -> [UInt8] {
        let inode = try inodes.inode(number)
        guard name.hasPrefix(Self.userNamespace), !inode.isSymbolicLink else { throw .noData }
        let path = SystemCall.procPath(inode.descriptor)
        while true {
            let size = getxattr(path, name, nil, 0)
            guard size >= 0 else { throw FilesystemError.lastSystemCall }
            var value = [UInt8](repeating: 0, count: size)
            let read = getxattr(path, name, &value, size)
            if read >= 0 { return Array(value[..<read]) }
            if errno != ERANGE { throw FilesystemError.lastSystemCall }
        }
    }

    public func extendedAttributeNames(_ number: InodeNumber) throws(FilesystemError) -> [String] {
        let inode = try inodes.inode(number)
        guard !inode.isSymbolicLink else { return [] }
        let path = SystemCall.procPath(inode.descriptor)
        while true {
            let size = listxattr(path, nil, 0)
            guard size >= 0 else { throw FilesystemError.lastSystemCall }
            if size == 0 { return [] }
            var buffer = [CChar](repeating: 0, count: size)
            let read = listxattr(path, &buffer, size)
            if read < 0 {
                if errno == ERANGE { continue }
                throw FilesystemError.lastSystemCall
            }
            return buffer[..<read].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
                .filter { $0.hasPrefix(Self.userNamespace) }
        }
    }

    public func removeExtendedAttribute(_ number: InodeNumber, name: String) throws(FilesystemError) {
        let inode = try inodes.inode(number)
        guard name.hasPrefix(Self.userNamespace) else { throw .notSupported }
        guard !inode.isSymbolicLink else { throw .notPermitted }
        try SystemCall.check(removexattr(SystemCall.procPath(inode.descriptor), name))
    }
}
