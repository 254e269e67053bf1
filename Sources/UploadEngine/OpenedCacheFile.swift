import Foundation
import CLinux
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

/// A cache file held open for the length of one upload. Its ``path`` names the open file, not its name in
/// the cache (`/proc/self/fd/N`), so the target reads the same file even when it is renamed meanwhile
/// (rsync renames its temp file right after closing it, while an upload that starts at close is under way).
///
/// The file is found without following symbolic links (see ``CacheTree``): the daemon reads as root, and a
/// link put in the cache through the mount must never turn an upload into a read of another file.
struct OpenedCacheFile {
    let descriptor: Int32

    /// Opens the regular file at the mount-relative `path` under `root` for reading.
    /// - Throws: a retryable error when the file is gone (its rename or removal is on its way as an event); a
    ///   permanent one when it is, or its path goes through, a symbolic link, or it is not a regular file.
    init(_ path: String, under root: String) throws(UploadTargetError) {
        let found = try CacheTree(root: root).openWithoutFollowing(path)
        defer { Glibc.close(found) }
        var attributes = stat()
        guard fstat(found, &attributes) == 0 else { throw CacheTree.error(path, errno) }
        guard attributes.st_mode & S_IFMT == S_IFREG else {
            let kind = attributes.st_mode & S_IFMT == S_IFLNK ? "a symbolic link" : "not a regular file"
            throw .permanent("\(path): \(kind) in the cache, not uploaded")
        }
        // Reopening the O_PATH descriptor through its /proc link opens that very inode, whatever its name is now.
        let descriptor = open("/proc/self/fd/\(found)", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CacheTree.error(path, errno) }
        // An evicted file (the mirror's mark, see CacheMark) has holes where its data was: its data is the
        // service's copy, and sending the holes would replace that copy with zeros.
        if fgetxattr(descriptor, Self.evictedMark, nil, 0) >= 0 {
            Glibc.close(descriptor)
            throw .permanent("\(path): its data was evicted from the cache and is on the service; not sent again")
        }
        self.descriptor = descriptor
    }

    /// The attribute the mirror sets on a cache file whose data it evicted.
    static let evictedMark = "user.tusfs.evicted"

    /// A path that opens this file for as long as it is open here.
    var path: String { "/proc/self/fd/\(descriptor)" }

    func close() { _ = Glibc.close(descriptor) }
}

/// `CACHE/files` seen from the engine: mount-relative paths (`PathBytes` text) resolved one component at a
/// time relative to directory descriptors, never through a symbolic link.
struct CacheTree {
    let root: String

    /// An `O_PATH` descriptor of whatever `path` names (a link itself, not what it points to). Every directory
    /// on the way is opened with `O_NOFOLLOW | O_DIRECTORY`, so a link in place of a directory is refused.
    func openWithoutFollowing(_ path: String) throws(UploadTargetError) -> Int32 {
        let components = PathBytes.components(of: path)
        guard !components.isEmpty else { throw .permanent("\(path): not a file path") }
        var directory = open(root, tusfs_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw Self.error(path, errno) }
        defer { close(directory) }
        for component in components.dropLast() {
            let next = Self.withCName(component) { openat(directory, $0, tusfs_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard next >= 0 else { throw Self.error(path, errno) }
            close(directory)
            directory = next
        }
        let file = Self.withCName(components.last!) { openat(directory, $0, tusfs_O_PATH | O_NOFOLLOW | O_CLOEXEC) }
        guard file >= 0 else { throw Self.error(path, errno) }
        return file
    }

    /// The attributes of what `path` names (`lstat`, no link followed anywhere on the way); nil when it is gone.
    func status(of path: String) -> stat? {
        guard let descriptor = try? openWithoutFollowing(path) else { return nil }
        defer { close(descriptor) }
        var attributes = stat()
        return fstat(descriptor, &attributes) == 0 ? attributes : nil
    }

    /// True when `path` names a regular file and no symbolic link is on the way to it.
    func isRegularFileWithoutLinks(_ path: String) -> Bool {
        guard let attributes = status(of: path) else { return false }
        return attributes.st_mode & S_IFMT == S_IFREG
    }

    /// True when `path` cannot be opened because a symbolic link (or a non-directory) is in its way.
    func isBlockedByLink(_ path: String) -> Bool {
        do throws(UploadTargetError) {
            close(try openWithoutFollowing(path))
            return false
        } catch {
            return !error.isRetryable
        }
    }

    /// Calls `body` with every regular file below the root, its size and modification time, a directory at a
    /// time; symbolic links (to files or directories) are not followed.
    func forEachRegularFile(_ body: (_ path: String, _ size: Int64, _ modified: Date) -> Void) {
        let rootDescriptor = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootDescriptor >= 0 else { return }
        list(rootDescriptor, prefix: "", body)
    }

    /// Lists the directory open as `descriptor` (and closes it), descending into subdirectories.
    private func list(_ descriptor: Int32, prefix: String, _ body: (String, Int64, Date) -> Void) {
        guard let stream = fdopendir(descriptor) else {
            close(descriptor)
            return
        }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = directoryEntryName(entry)
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            var attributes = stat()
            let statted = Self.withCName(name) { fstatat(dirfd(stream), $0, &attributes, AT_SYMLINK_NOFOLLOW) }
            guard statted == 0 else { continue }
            let path = prefix + PathBytes.string(from: name)
            switch attributes.st_mode & S_IFMT {
            case S_IFREG:
                let modified = attributes.st_mtim
                body(path, Int64(attributes.st_size), Date(timeIntervalSince1970: Double(modified.tv_sec) + Double(modified.tv_nsec) / 1e9))
            case S_IFDIR:
                let child = Self.withCName(name) { openat(dirfd(stream), $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
                if child >= 0 { list(child, prefix: path + "/", body) }
            default:
                continue
            }
        }
    }

    static func withCName<T>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        (name + [0]).withUnsafeBufferPointer { bytes in bytes.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) } }
    }

    /// The error for a failed open of `path`: gone is retryable (an event about it is on its way), a link
    /// where a directory or the file should be is permanent.
    static func error(_ path: String, _ code: Int32) -> UploadTargetError {
        let reason = String(cString: strerror(code))
        switch code {
        case ELOOP, ENOTDIR:
            return .permanent("\(path): the cache path goes through a symbolic link or a non-directory, not uploaded (\(reason))")
        default:
            return .retryable("\(path): cannot open the cache file (\(reason))")
        }
    }
}
