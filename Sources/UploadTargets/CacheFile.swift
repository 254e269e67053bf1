#if canImport(Glibc)
import Glibc
#endif
import UploadEngine

/// The file in the cache that an upload reads.
enum CacheFile {
    /// The size of the regular file at `path` now (what will be sent, whatever the journal says). `path` may
    /// be a link to an open file (`/proc/self/fd/N`, as the engine hands out): it is followed.
    /// - Throws: a permanent error when the file vanished, cannot be read, or is not a regular file.
    static func size(of path: String) throws(UploadTargetError) -> Int64 {
        var attributes = stat()
        guard stat(path, &attributes) == 0 else {
            throw .permanent("\(path): the cache file is gone or unreadable")
        }
        guard attributes.st_mode & S_IFMT == S_IFREG else {
            throw .permanent("\(path): not a regular file")
        }
        return Int64(attributes.st_size)
    }
}

/// Which cache file, and how large: device and inode (the same through any path to it, `/proc/self/fd/N`
/// included) and size. Not the modification time: `rsync -a`, `tar` and `cp -p` set it after writing, which
/// changes nothing that was worked out from the file.
struct CacheFileVersion: Sendable, Hashable {
    var device: UInt64
    var inode: UInt64
    var size: Int64

    /// The version of the regular file at `path` now; nil when it cannot be read or is not a regular file.
    init?(of path: String) {
        var attributes = stat()
        guard stat(path, &attributes) == 0, attributes.st_mode & S_IFMT == S_IFREG else { return nil }
        device = UInt64(attributes.st_dev)
        inode = UInt64(attributes.st_ino)
        size = Int64(attributes.st_size)
    }

    /// The file this is a version of.
    var file: FileKey { FileKey(device: device, inode: inode) }

    /// A file by device and inode.
    struct FileKey: Sendable, Hashable {
        var device: UInt64
        var inode: UInt64
    }
}
