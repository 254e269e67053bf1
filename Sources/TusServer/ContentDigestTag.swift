import CLinux
import Foundation
import TusCore
#if canImport(Glibc)
import Glibc
#endif

/// The digest of a whole file, computed while its bytes arrived (a tus upload's PATCH bodies, a plain PUT body) and
/// kept with the file as an extended attribute (`user.tusfs.content-digest`), so a later reader, such as the media
/// service's processing, need not read the file again.
///
/// The attribute belongs to the file itself: a rename keeps it (the data file of a tus upload is renamed into the
/// content store), a copy or a new file does not have it. It also records the file's size and modification time
/// when it was written, so a file changed afterwards is not vouched for. Whenever the tag is missing, stale or the
/// file system keeps no extended attributes, the reader computes the digest from the file instead.
public enum ContentDigestTag {
    static let attribute = "user.tusfs.content-digest"

    /// Tags the open file `descriptor` with `digest`, the digest of every byte it holds now. Call it after the last
    /// write. Failing to tag is not an error (the digest is then computed again when needed).
    /// - Returns: whether the tag was written.
    @discardableResult
    public static func write(_ digest: Data, algorithm: ChecksumAlgorithm, descriptor: Int32) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        let value = Array(text(algorithm: algorithm, digest: digest, info: info).utf8)
        return fsetxattr(descriptor, attribute, value, value.count, 0) == 0
    }

    /// The digest the file at `path` was tagged with for `algorithm`, and its size, if the file has not changed
    /// since it was tagged.
    public static func read(path: String, algorithm: ChecksumAlgorithm) -> (size: Int64, digest: Data)? {
        var value = [UInt8](repeating: 0, count: 256)
        let count = getxattr(path, attribute, &value, value.count)
        guard count > 0 else { return nil }
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let parts = String(decoding: value[0..<count], as: UTF8.self).split(separator: " ")
        // The tag must describe the file as it is now: same algorithm, size and modification time.
        guard parts.count == 4, parts[0] == algorithm.rawValue, parts[2] == String(info.st_size),
            parts[3] == modificationTime(info), let digest = Data(hex: parts[1])
        else { return nil }
        return (Int64(info.st_size), digest)
    }

    /// `ALGORITHM HEXDIGEST SIZE MTIME`.
    private static func text(algorithm: ChecksumAlgorithm, digest: Data, info: stat) -> String {
        let hex = digest.lowercaseHex
        return "\(algorithm.rawValue) \(hex) \(info.st_size) \(modificationTime(info))"
    }

    private static func modificationTime(_ info: stat) -> String { "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)" }
}

extension Data {
    /// The bytes of a string of hex digit pairs; nil when it is not one.
    init?(hex: some StringProtocol) {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let high = Self.nibble(digits[i]), let low = Self.nibble(digits[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.init(bytes)
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
