import CLinux
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

/// Walks the backing tree by descriptors, never following a symbolic link, and opens files in it the same
/// way: the cache's own thread must never act on a file outside the tree.
enum CacheTreeWalk {
    /// Calls `visit` with the path (bytes, relative to the root) and status of every regular file below the
    /// directory open as `root` (an O_PATH descriptor).
    static func regularFiles(under root: Int32, _ visit: ([UInt8], stat) -> Void) {
        walk(openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), prefix: [], visit)
    }

    private static func walk(_ directory: Int32, prefix: [UInt8], _ visit: ([UInt8], stat) -> Void) {
        guard directory >= 0, let stream = fdopendir(directory) else {
            if directory >= 0 { close(directory) }
            return
        }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = directoryEntryName(entry)
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            var attributes = stat()
            let found = (name + [0]).withUnsafeBufferPointer { pointer in
                pointer.withMemoryRebound(to: CChar.self) {
                    fstatat(dirfd(stream), $0.baseAddress!, &attributes, AT_SYMLINK_NOFOLLOW) == 0
                }
            }
            guard found else { continue }
            let path = prefix.isEmpty ? name : prefix + [0x2F] + name
            switch attributes.st_mode & S_IFMT {
            case S_IFREG:
                visit(path, attributes)
            case S_IFDIR:
                let child = (name + [0]).withUnsafeBufferPointer { pointer in
                    pointer.withMemoryRebound(to: CChar.self) {
                        openat(dirfd(stream), $0.baseAddress!, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    }
                }
                walk(child, prefix: path, visit)
            default:
                continue
            }
        }
    }

    /// Opens the regular file at `path` (bytes, relative to the directory open as `root`) with `flags`,
    /// refusing a symbolic link anywhere on the way. -1 when it cannot.
    static func open(_ path: [UInt8], under root: Int32, flags: Int32) -> Int32 {
        let components = path.split(separator: 0x2F, omittingEmptySubsequences: true).map(Array.init)
        guard let last = components.last, !components.contains([0x2E, 0x2E]) else { return -1 }
        var directory = dup(root)
        guard directory >= 0 else { return -1 }
        for component in components.dropLast() {
            let next = (component + [0]).withUnsafeBufferPointer { pointer in
                pointer.withMemoryRebound(to: CChar.self) {
                    openat(directory, $0.baseAddress!, tusfs_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                }
            }
            close(directory)
            guard next >= 0 else { return -1 }
            directory = next
        }
        defer { close(directory) }
        return (last + [0]).withUnsafeBufferPointer { pointer in
            pointer.withMemoryRebound(to: CChar.self) {
                openat(directory, $0.baseAddress!, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
            }
        }
    }
}
