#if canImport(Glibc)
import Glibc
#endif

/// A cache file held open for the length of one upload. Its ``path`` names the open file, not its name in
/// the cache (`/proc/self/fd/N`), so the target reads the same file even when it is renamed meanwhile
/// (rsync renames its temp file right after closing it, while an upload that starts at close is under way).
struct OpenedCacheFile {
    let descriptor: Int32

    /// Opens the file at `path` for reading.
    /// - Throws: a retryable error when the file is gone: its rename or removal is on its way as an event.
    init(path: String) throws(UploadTargetError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .retryable("\(path): cannot open the cache file (\(String(cString: strerror(errno))))")
        }
        self.descriptor = descriptor
    }

    /// A path that opens this file for as long as it is open here.
    var path: String { "/proc/self/fd/\(descriptor)" }

    func close() { _ = Glibc.close(descriptor) }
}
