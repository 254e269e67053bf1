import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What an eviction or a read-back was doing when the daemon died: dropping or writing a file's data moves
/// its modification time, which is put back right after. A file caught in between by a `kill -9` would look
/// changed since its upload, and be uploaded again from a cache file with holes. So before each one, a small
/// file in `CACHE/cache-intents/` (named after the cache file's inode) records the file's path and times; it
/// is removed once the times are back. The next mount puts back the times of every file still marked evicted
/// that an intent names (`repair`), before the journal is compared with the cache.
struct CacheIntents: Sendable {
    let directory: String

    /// Records that the file at `path` (bytes, relative to the cache's files), inode `inode`, is about to
    /// change with the times in `attributes`.
    func begin(inode: UInt64, path: [UInt8], attributes: stat) -> Bool {
        let times = "\(attributes.st_atim.tv_sec) \(attributes.st_atim.tv_nsec) \(attributes.st_mtim.tv_sec) \(attributes.st_mtim.tv_nsec)\n"
        let file = directory + "/\(inode)"
        let descriptor = Glibc.open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let bytes = Array(times.utf8) + path
        return bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == bytes.count
    }

    func end(inode: UInt64) {
        unlink(directory + "/\(inode)")
    }

    /// Puts back the times of the files interrupted intents name (those still marked evicted), and removes
    /// the intents. `root` is an O_PATH descriptor of the cache's files.
    static func repair(directory: String, root: Int32) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var repaired = 0
        for name in names {
            let file = directory + "/" + name
            defer { unlink(file) }
            guard let inode = UInt64(name), let data = FileManager.default.contents(atPath: file),
                let newline = data.firstIndex(of: 0x0A)
            else { continue }
            let fields = String(decoding: data[..<newline], as: UTF8.self).split(separator: " ").compactMap { Int($0) }
            let path = Array(data[data.index(after: newline)...])
            guard fields.count == 4 else { continue }
            let descriptor = CacheTreeWalk.open(path, under: root, flags: O_RDONLY)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            var attributes = stat()
            guard fstat(descriptor, &attributes) == 0, UInt64(attributes.st_ino) == inode, CacheMark.isSet(on: descriptor) else { continue }
            var times = [timespec(tv_sec: fields[0], tv_nsec: fields[1]), timespec(tv_sec: fields[2], tv_nsec: fields[3])]
            if futimens(descriptor, &times) == 0 { repaired += 1 }
        }
        return repaired
    }
}
