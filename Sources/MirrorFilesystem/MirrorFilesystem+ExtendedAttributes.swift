import CLinux
import FUSEAdapter
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

// Extended attributes: the `user.` namespace is stored on the backing file. Other namespaces are not
// offered (the daemon runs privileged; `trusted.`/`security.` must not be writable through the mount), and
// EOPNOTSUPP for them makes `cp -a`/`rsync -X` skip them quietly. With a status provider, `user.tusfs.*` are the
// read-only status attributes instead, and `user.tusfs.summary` (on directories, files and the root; not listed)
// gives the totals of a subtree.
extension MirrorFilesystem {
    static let userNamespace = "user."

    public func setExtendedAttribute(_ number: InodeNumber, name: String, value: [UInt8], flags: Int32)
        throws(FilesystemError)
    {
        if VirtualNodes.isVirtual(number) { throw .notPermitted }
        let inode = try inodes.inode(number)
        if let statusProvider, name.hasPrefix(StatusNames.attributePrefix) {
            // Status attributes are read-only: setting one (as `rsync -aX` or `cp --preserve=all` copying
            // from another tusfs mount does) is accepted and has no effect, except the retry request.
            if name == StatusNames.retryAttribute, let path = path(of: inode) { try statusProvider.retry(path) }
            try cacheRequest(name, inode)
            return
        }
        guard name.hasPrefix(Self.userNamespace) else { throw .notSupported }
        guard !inode.isSymbolicLink else { throw .notPermitted }
        try SystemCall.check(setxattr(SystemCall.procPath(inode.descriptor), name, value, value.count, flags))
    }

    public func extendedAttribute(_ number: InodeNumber, name: String, context: RequestContext) throws(FilesystemError) -> [UInt8] {
        if VirtualNodes.isVirtual(number) { throw .noData }
        let inode = try inodes.inode(number)
        if let statusProvider, name.hasPrefix(StatusNames.attributePrefix) {
            if name == Self.cacheSummaryAttribute, let cacheSpace {
                guard mayReadMountStatus(context) else { throw FilesystemError(EACCES) }
                return cacheSpace.summaryJSON()
            }
            if name == StatusNames.summaryAttribute {
                // A subtree's totals count files the caller may not see: the mount owner's and root's alone.
                guard mayReadMountStatus(context) else { throw FilesystemError(EACCES) }
                guard let path = path(of: inode) else { throw .noData }
                return statusProvider.subtreeSummary(of: path)
            }
            // A file's status (its URL among it) is for those who may read the file.
            guard context.mayRead(try SystemCall.status(of: inode.descriptor)) else { throw FilesystemError(EACCES) }
            let key = String(name.dropFirst(StatusNames.attributePrefix.count))
            if let value = cacheAttribute(key, inode) { return Array(value.utf8) }
            guard let path = path(of: inode), let value = statusProvider.statusAttributes(of: path)?.first(where: { $0.name == key })
            else { throw .noData }
            return Array(value.value.utf8)
        }
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
        if VirtualNodes.isVirtual(number) { return [] }
        let inode = try inodes.inode(number)
        guard !inode.isSymbolicLink else { return [] }
        return try storedAttributeNames(inode) + statusAttributeNames(inode)
    }

    private func statusAttributeNames(_ inode: Inode) -> [String] {
        guard let statusProvider, !inode.isDirectory, let path = path(of: inode),
            let attributes = statusProvider.statusAttributes(of: path)
        else { return [] }
        return attributes.map { StatusNames.attributePrefix + $0.name } + cacheAttributeNames(inode, attributes.map(\.name))
    }

    private func storedAttributeNames(_ inode: Inode) throws(FilesystemError) -> [String] {
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
                .filter { $0.hasPrefix(Self.userNamespace) && !(statusProvider != nil && $0.hasPrefix(StatusNames.attributePrefix)) && $0 != CacheMark.name }
        }
    }

    public func removeExtendedAttribute(_ number: InodeNumber, name: String) throws(FilesystemError) {
        if VirtualNodes.isVirtual(number) { throw .notPermitted }
        let inode = try inodes.inode(number)
        if statusProvider != nil, name.hasPrefix(StatusNames.attributePrefix) { return }  // read-only; see set
        guard name.hasPrefix(Self.userNamespace) else { throw .notSupported }
        guard !inode.isSymbolicLink else { throw .notPermitted }
        try SystemCall.check(removexattr(SystemCall.procPath(inode.descriptor), name))
    }
}
