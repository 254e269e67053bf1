import Foundation
#if canImport(Glibc)
import Glibc
#endif
internal import Timekeeping

/// Builds the tree the mount must copy faithfully: empty files, a large file, a 255-byte name, UTF-8 names
/// with spaces, deep directories, symlinks (relative, absolute, dangling), hard links, unusual modes, and
/// modification times with nanoseconds.
public enum MixedTree {
    /// Creates the tree under `root` (created if missing). `largeFileSize` is the size of `big/large.bin`.
    public static func create(at root: String, largeFileSize: Int = 300_000_000) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        func file(_ path: String, _ contents: String, mode: mode_t = 0o644) throws {
            let full = root + "/" + path
            try fm.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: URL(fileURLWithPath: full))
            chmod(full, mode)
        }
        try file("empty", "")
        try file("docs/empty too", "")
        try file("docs/readme.txt", "hello\n")
        try file("docs/ünïcødé naïve café.txt", "utf-8 name with spaces\n")
        try file("docs/日本語 ファイル.md", "# 見出し\n")
        try file(String(repeating: "L", count: 251) + ".txt", "a 255-byte name\n")
        try file("scripts/run.sh", "#!/bin/sh\necho hi\n", mode: 0o755)
        try file("private/secret", "only me\n", mode: 0o600)
        try file("readonly", "cannot write\n", mode: 0o444)
        var deep = "deep"
        for level in 0..<20 { deep += "/level \(level)" }
        try file(deep + "/bottom.txt", "at the bottom\n")
        for index in 0..<40 { try file("many/file-\(index).dat", String(repeating: "\(index)", count: index * 37)) }
        try largeFile(root + "/big/large.bin", size: largeFileSize)
        try fm.createSymbolicLink(atPath: root + "/link-to-readme", withDestinationPath: "docs/readme.txt")
        try fm.createSymbolicLink(atPath: root + "/docs/absolute link", withDestinationPath: "/etc/hostname")
        try fm.createSymbolicLink(atPath: root + "/dangling", withDestinationPath: "does/not/exist")
        try fm.createSymbolicLink(atPath: root + "/link-to-dir", withDestinationPath: "many")
        guard link(root + "/docs/readme.txt", root + "/hardlink-to-readme") == 0,
            link(root + "/docs/readme.txt", root + "/many/another hard link") == 0
        else { throw TestFailure("link failed: errno \(errno)") }
        try setTimes(root)
    }

    /// A file of pseudo-random bytes (each MiB differs), written fast.
    public static func largeFile(_ path: String, size: Int) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else { throw TestFailure("cannot create \(path)") }
        defer { try? handle.close() }
        var generator = SplitMix64(seed: 0x9E37_79B9_7F4A_7C15)
        var block = [UInt64](repeating: 0, count: (1 << 20) / 8)
        var written = 0
        while written < size {
            for index in block.indices { block[index] = generator.next() }
            let count = min(1 << 20, size - written)
            block.withUnsafeBytes { handle.write(Data($0.prefix(count))) }
            written += count
        }
    }

    /// Gives every entry a distinct past modification time with nanoseconds (children before parents).
    static func setTimes(_ root: String) throws {
        var paths: [String] = []
        if let enumerator = FileManager.default.enumerator(atPath: root) {
            for case let path as String in enumerator { paths.append(path) }
        }
        for (index, path) in paths.sorted(by: { $0.count > $1.count }).enumerated() {
            var times = [
                timespec(tv_sec: 1_600_000_000 + index, tv_nsec: 111_111_111),
                timespec(tv_sec: 1_500_000_000 + index * 7, tv_nsec: 123_456_789 + index),
            ]
            guard utimensat(AT_FDCWD, root + "/" + path, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw TestFailure("utimensat \(path): errno \(errno)")
            }
        }
    }
}
