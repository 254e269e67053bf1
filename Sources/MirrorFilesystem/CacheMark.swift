import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// The mark of an evicted file: an extended attribute of its backing file, set before its data is dropped
/// and removed only once the data read back is whole, so that a crash at any point leaves the file either
/// whole or marked (and read back at its next open). The mount never shows it (`user.tusfs.` names are the
/// status attributes).
enum CacheMark {
    static let name = "user.tusfs.evicted"

    static func isSet(on descriptor: Int32) -> Bool {
        fgetxattr(descriptor, name, nil, 0) >= 0
    }

    static func isSet(onPath path: String) -> Bool {
        getxattr(path, name, nil, 0) >= 0
    }

    /// False when the backing filesystem takes no extended attributes: such a file is never evicted.
    static func set(on descriptor: Int32) -> Bool {
        let value: [UInt8] = Array("1".utf8)
        return fsetxattr(descriptor, name, value, value.count, 0) == 0
    }

    static func clear(on descriptor: Int32) {
        _ = fremovexattr(descriptor, name)
    }
}
