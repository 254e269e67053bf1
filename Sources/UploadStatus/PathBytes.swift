/// Mount-relative paths as text, for every name a Linux filesystem can hold.
///
/// A file name is bytes; most are UTF-8, but a name copied from an old disk or a tar archive may be Latin-1
/// (`caf\xe9.txt`), which no Swift `String` can hold as it is. The mirror, the engine, the journal and the
/// status surface key files by `String` paths, so each byte of a name that is not part of valid UTF-8 is
/// written as the scalar U+10FF00 + byte (U+10FF80…U+10FFFF, at the end of the last private-use plane). A name
/// that really contains one of those scalars has each of its four UTF-8 bytes written that way too, so
/// ``bytes(of:)`` gives back exactly the bytes ``string(from:)`` was given, for every byte string.
public enum PathBytes {
    /// The scalars that stand for single bytes.
    public static let escapes: ClosedRange<UInt32> = 0x10FF80...0x10FFFF

    /// `bytes` as text: valid UTF-8 as it is, any other byte as its escape scalar.
    public static func string<Bytes: Collection<UInt8>>(from bytes: Bytes) -> String {
        if let text = String(validating: bytes, as: UTF8.self),
            !text.unicodeScalars.contains(where: { escapes.contains($0.value) })
        {
            return text
        }
        let bytes = Array(bytes)
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            if let (scalar, length) = UTF8Scalar.decode(bytes, at: index), !escapes.contains(scalar.value) {
                scalars.append(scalar)
                index += length
            } else {
                scalars.append(Unicode.Scalar(0x10FF00 + UInt32(bytes[index]))!)
                index += 1
            }
        }
        return String(scalars)
    }

    /// The bytes `text` stands for (the inverse of ``string(from:)``).
    public static func bytes(of text: String) -> [UInt8] {
        guard text.unicodeScalars.contains(where: { escapes.contains($0.value) }) else { return Array(text.utf8) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if escapes.contains(scalar.value) {
                bytes.append(UInt8(scalar.value - 0x10FF00))
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        return bytes
    }

    /// The components of a mount-relative path (`a/b/c.txt`), each as the bytes of its name.
    public static func components(of path: String) -> [[UInt8]] {
        path.split(separator: "/").map { bytes(of: String($0)) }
    }
}

/// Decoding one scalar of UTF-8 by hand, so that an invalid sequence is known to be exactly one bad byte.
enum UTF8Scalar {
    /// The scalar encoded at `index` and its length in bytes; nil when the bytes there are not valid UTF-8
    /// (a stray continuation byte, a truncated sequence, an overlong form, a surrogate, or beyond U+10FFFF).
    static func decode(_ bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        let length: Int
        var value: UInt32
        switch lead {
        case 0x00...0x7F: return (Unicode.Scalar(lead), 1)
        case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; value = UInt32(lead & 0x07)
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard byte & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        let smallest: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard value >= smallest, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }
}
