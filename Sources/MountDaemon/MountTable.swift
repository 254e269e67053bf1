import Foundation

/// Reads `/proc/self/mountinfo`: which directories are mount points, and of what.
struct MountTable {
    struct Mount {
        let mountpoint: String
        let filesystemType: String
        let source: String
    }

    let mounts: [Mount]

    init() {
        let text = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        mounts = text.split(separator: "\n").compactMap { line in
            // id parent major:minor root mountpoint options [optional fields] - fstype source superoptions
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count > 4, let dash = fields.firstIndex(of: "-"), dash + 2 < fields.count else { return nil }
            return Mount(
                mountpoint: MountTable.unescape(fields[4]), filesystemType: String(fields[dash + 1]),
                source: MountTable.unescape(fields[dash + 2]))
        }
    }

    func mount(at path: String) -> Mount? { mounts.last { $0.mountpoint == path } }

    /// mountinfo writes space, tab, newline and backslash as octal escapes (`\040`).
    static func unescape(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(field.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "\\"), iterator.count >= 3,
                let value = UInt8(String(decoding: iterator.prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
