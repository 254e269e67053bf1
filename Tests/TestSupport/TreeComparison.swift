import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Compares two directory trees the way a user checks a copy: same names, types, permission bits, sizes,
/// modification times (to the nanosecond), symlink targets, bytes, and hard-link groups.
public enum TreeComparison {
    public struct Options: Sendable {
        public var compareDirectoryTimes = true
        public var compareSymlinkTimes = true
        public var compareHardLinks = true
        public init() {}
    }

    /// Human-readable differences; empty when the trees are equal.
    public static func differences(_ source: String, _ copy: String, options: Options = .init()) throws -> [String] {
        let left = try snapshot(source)
        let right = try snapshot(copy)
        var problems: [String] = []
        for name in Set(left.keys).symmetricDifference(right.keys).sorted() {
            problems.append(left[name] == nil ? "only in copy: \(name)" : "missing in copy: \(name)")
        }
        for (name, a) in left.sorted(by: { $0.key < $1.key }) {
            guard let b = right[name] else { continue }
            if a.type != b.type { problems.append("\(name): type \(a.type) vs \(b.type)"); continue }
            if a.type != S_IFLNK && a.mode != b.mode {
                problems.append("\(name): mode \(String(a.mode, radix: 8)) vs \(String(b.mode, radix: 8))")
            }
            let checkTime =
                a.type == S_IFREG || (a.type == S_IFDIR && options.compareDirectoryTimes)
                || (a.type == S_IFLNK && options.compareSymlinkTimes)
            if checkTime && (a.mtime.tv_sec != b.mtime.tv_sec || a.mtime.tv_nsec != b.mtime.tv_nsec) {
                problems.append("\(name): mtime \(a.mtime.tv_sec).\(a.mtime.tv_nsec) vs \(b.mtime.tv_sec).\(b.mtime.tv_nsec)")
            }
            if a.type == S_IFREG {
                if a.size != b.size {
                    problems.append("\(name): size \(a.size) vs \(b.size)")
                } else if !(try sameBytes(source + "/" + name, copy + "/" + name)) {
                    problems.append("\(name): contents differ")
                }
            }
            if a.type == S_IFLNK && a.linkTarget != b.linkTarget {
                problems.append("\(name): link target \(a.linkTarget ?? "") vs \(b.linkTarget ?? "")")
            }
        }
        if options.compareHardLinks {
            let groupsA = hardLinkGroups(left), groupsB = hardLinkGroups(right)
            if groupsA != groupsB { problems.append("hard-link groups differ: \(groupsA) vs \(groupsB)") }
        }
        return problems
    }

    struct Item {
        var type: mode_t
        var mode: mode_t
        var size: Int64
        var mtime: timespec
        var inode: UInt64
        var links: UInt64
        var linkTarget: String?
    }

    static func snapshot(_ root: String) throws -> [String: Item] {
        var items: [String: Item] = [:]
        func walk(_ relative: String) throws {
            let full = relative.isEmpty ? root : root + "/" + relative
            for name in try FileManager.default.contentsOfDirectory(atPath: full) {
                let path = relative.isEmpty ? name : relative + "/" + name
                var st = stat()
                guard lstat(root + "/" + path, &st) == 0 else { throw TestFailure("lstat \(path): errno \(errno)") }
                var item = Item(
                    type: st.st_mode & S_IFMT, mode: st.st_mode & 0o7777, size: Int64(st.st_size), mtime: st.st_mtim,
                    inode: UInt64(st.st_ino), links: UInt64(st.st_nlink))
                if item.type == S_IFLNK {
                    item.linkTarget = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + path)
                }
                items[path] = item
                if item.type == S_IFDIR { try walk(path) }
            }
        }
        try walk("")
        return items
    }

    static func hardLinkGroups(_ items: [String: Item]) -> Set<[String]> {
        var groups: [UInt64: [String]] = [:]
        for (name, item) in items where item.type == S_IFREG && item.links > 1 { groups[item.inode, default: []].append(name) }
        return Set(groups.values.map { $0.sorted() })
    }

    /// Compares two files' bytes in 1 MiB blocks.
    public static func sameBytes(_ a: String, _ b: String) throws -> Bool {
        guard let fa = FileHandle(forReadingAtPath: a), let fb = FileHandle(forReadingAtPath: b) else {
            throw TestFailure("cannot open \(a) or \(b)")
        }
        defer { try? fa.close(); try? fb.close() }
        while true {
            let da = fa.readData(ofLength: 1 << 20), db = fb.readData(ofLength: 1 << 20)
            if da != db { return false }
            if da.isEmpty { return true }
        }
    }
}
