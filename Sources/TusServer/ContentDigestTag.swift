import CLinux
import Foundation
import TusCore
#if canImport(Glibc)
import Glibc
#endif

/// The digests of a whole file, computed while its bytes arrived (a tus upload's PATCH bodies, a plain PUT body) and
/// kept with the file as an extended attribute (`user.tusfs.content-digest`), so a later reader, such as the media
/// service's processing, need not read the file again.
///
/// The attribute belongs to the file itself: a rename keeps it (the data file of a tus upload is renamed into the
/// content store), a copy or a new file does not have it. It also records the file's size and modification time
/// when it was written, so a file changed afterwards is not vouched for. Whenever the tag is missing, stale, lacks
/// an algorithm the reader needs or the file system keeps no extended attributes, the reader computes the digest
/// from the file instead.
public enum ContentDigestTag {
    static let attribute = "user.tusfs.content-digest"

    /// Tags the open file `descriptor` with `digests`, the digests of every byte it holds now. Call it after the
    /// last write. Failing to tag is not an error (the digests are then computed again when needed).
    /// - Returns: whether the tag was written.
    @discardableResult
    public static func write(_ digests: [ChecksumAlgorithm: Data], descriptor: Int32) -> Bool {
        var info = stat()
        guard !digests.isEmpty, fstat(descriptor, &info) == 0 else { return false }
        let value = Array(text(digests, info: info).utf8)
        return fsetxattr(descriptor, attribute, value, value.count, 0) == 0
    }

    /// The digests the file at `path` was tagged with, and its size, if the file has not changed since it was
    /// tagged.
    public static func read(path: String) -> (size: Int64, digests: [ChecksumAlgorithm: Data])? {
        var value = [UInt8](repeating: 0, count: 512)
        let count = getxattr(path, attribute, &value, value.count)
        guard count > 0 else { return nil }
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let parts = String(decoding: value[0..<count], as: UTF8.self).split(separator: " ")
        // The tag must describe the file as it is now: same size and modification time.
        guard parts.count >= 4, parts.count % 2 == 0, parts[parts.count - 2] == String(info.st_size),
            parts[parts.count - 1] == modificationTime(info)
        else { return nil }
        var digests: [ChecksumAlgorithm: Data] = [:]
        for pair in stride(from: 0, to: parts.count - 2, by: 2) {
            guard let algorithm = ChecksumAlgorithm(rawValue: String(parts[pair])), let digest = Data(hex: parts[pair + 1])
            else { continue }
            digests[algorithm] = digest
        }
        return digests.isEmpty ? nil : (Int64(info.st_size), digests)
    }

    /// The digest the file at `path` was tagged with for `algorithm`, and its size, if the file has not changed
    /// since it was tagged.
    public static func read(path: String, algorithm: ChecksumAlgorithm) -> (size: Int64, digest: Data)? {
        guard let tag = read(path: path), let digest = tag.digests[algorithm] else { return nil }
        return (tag.size, digest)
    }

    /// `ALGORITHM HEXDIGEST [ALGORITHM HEXDIGEST…] SIZE MTIME` (algorithms in name order).
    private static func text(_ digests: [ChecksumAlgorithm: Data], info: stat) -> String {
        let pairs = digests.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value.lowercaseHex)" }
        return (pairs + ["\(info.st_size)", modificationTime(info)]).joined(separator: " ")
    }

    private static func modificationTime(_ info: stat) -> String { "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)" }
}
