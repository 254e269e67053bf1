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
