import Foundation

/// base64url without padding (RFC 4648 §5).
///
/// Written out over bytes rather than through `Data.base64EncodedString()` and string replacing: every upload
/// URL is encoded once and decoded at each request that uses it.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// The value of each base64url character; 0xFF for every other byte.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    static func encode(_ data: some Collection<UInt8>) -> String {
        let bytes = Array(data)
        let count = (bytes.count * 4 + 2) / 3
        return String(unsafeUninitializedCapacity: count) { out in
            var o = 0
            var i = 0
            while i + 3 <= bytes.count {
                let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                out[o] = alphabet[Int(n >> 18 & 63)]
                out[o + 1] = alphabet[Int(n >> 12 & 63)]
                out[o + 2] = alphabet[Int(n >> 6 & 63)]
                out[o + 3] = alphabet[Int(n & 63)]
                i += 3
                o += 4
            }
            switch bytes.count - i {
            case 1:
                let n = UInt32(bytes[i]) << 16
                out[o] = alphabet[Int(n >> 18 & 63)]
                out[o + 1] = alphabet[Int(n >> 12 & 63)]
                o += 2
            case 2:
                let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
                out[o] = alphabet[Int(n >> 18 & 63)]
                out[o + 1] = alphabet[Int(n >> 12 & 63)]
                out[o + 2] = alphabet[Int(n >> 6 & 63)]
                o += 3
            default: break
            }
            return o
        }
    }

    /// The bytes of `text`; nil when it holds anything but base64url characters, or has a length no encoding
    /// produces (4n+1), or leftover bits that are not zero.
    static func decode(_ text: some StringProtocol) -> Data? {
        let utf8 = text.utf8
        return utf8.withContiguousStorageIfAvailable(decode) ?? Array(utf8).withUnsafeBufferPointer(decode)
    }

    private static func decode(_ input: UnsafeBufferPointer<UInt8>) -> Data? {
        let remainder = input.count % 4
        guard remainder != 1 else { return nil }
        var out = [UInt8](repeating: 0, count: input.count / 4 * 3 + (remainder == 0 ? 0 : remainder - 1))
        var o = 0
        var acc: UInt32 = 0
        var bits = 0
        for c in input {
            let v = values[Int(c)]
            if v == 0xFF { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out[o] = UInt8(truncatingIfNeeded: acc >> UInt32(bits))
                o += 1
                acc &= (1 << UInt32(bits)) - 1
            }
        }
        guard acc == 0 else { return nil }
        return Data(out)
    }
}
