import FUSEAdapter
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

// The cache's part of the status surface: `user.tusfs.cached` (yes, no, fetching RECEIVED/SIZE), a failed
// read-back as `user.tusfs.error`, and the requests `user.tusfs.evict` and `user.tusfs.fetch` (what
// `tusfs cache evict|fetch` sets).
extension MirrorFilesystem {
    /// `user.tusfs.cached`.
    public static let cachedKey = "cached"
    static let errorKey = "error"
    /// The cache's totals as one line of JSON, on any file or directory of the mount (not listed), for the
    /// mount's owner and root: `getfattr -n user.tusfs.cache MOUNT`.
    public static let cacheSummaryAttribute = StatusNames.attributePrefix + "cache"
    /// Setting it evicts the file now (EBUSY while it is open, ENODATA when the service does not hold it as it is).
    public static let evictAttribute = StatusNames.attributePrefix + "evict"
    /// Setting it reads an evicted file back now (EIO when that fails).
    public static let fetchAttribute = StatusNames.attributePrefix + "fetch"

    /// The value of the cache's status attribute `key` of a regular file, when the cache has one to say.
    func cacheAttribute(_ key: String, _ inode: Inode) -> String? {
        guard let cacheSpace, !inode.isDirectory, !inode.isSymbolicLink else { return nil }
        switch key {
        case Self.cachedKey: return cacheSpace.presence(of: inode.descriptor).description
        case Self.errorKey: return cacheSpace.readBackError(of: inode.descriptor)
        default: return nil
        }
    }

    /// The cache's attribute names to list after the file's status attributes (`shown`).
    func cacheAttributeNames(_ inode: Inode, _ shown: [String]) -> [String] {
        guard cacheSpace != nil, !inode.isDirectory, !inode.isSymbolicLink else { return [] }
        var names = [StatusNames.attributePrefix + Self.cachedKey]
        if !shown.contains(Self.errorKey), cacheAttribute(Self.errorKey, inode) != nil {
            names.append(StatusNames.attributePrefix + Self.errorKey)
        }
        return names
    }

    /// Carries out `user.tusfs.evict` or `user.tusfs.fetch` set on a file; other names are ignored.
    func cacheRequest(_ name: String, _ inode: Inode) throws(FilesystemError) {
        guard name == Self.evictAttribute || name == Self.fetchAttribute else { return }
        guard let cacheSpace else { throw .notSupported }
        guard !inode.isDirectory, !inode.isSymbolicLink else { throw FilesystemError(EISDIR) }
        guard let path = path(of: inode) else { throw .notFound }
        if name == Self.evictAttribute {
            try cacheSpace.evictNow(pathDescriptor: inode.descriptor, path: path)
        } else {
            try cacheSpace.fetchNow(pathDescriptor: inode.descriptor, path: path)
        }
    }
}
