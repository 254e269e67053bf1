import Foundation

/// CRC-32 (IEEE 802.3 polynomial, the one of zlib and `cksum -a crc32b`), computed incrementally.
public struct CRC32: Sendable {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    private var crc: UInt32 = 0xFFFF_FFFF

    /// A CRC over no bytes yet.
    public init() {}

    /// Feeds `bytes` into the CRC.
    public mutating func update(_ bytes: some DataProtocol) {
        for region in bytes.regions {
            region.withUnsafeBytes { update($0) }
        }
    }

    /// Feeds the bytes of a raw buffer into the CRC.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        var c = crc
        Self.table.withUnsafeBufferPointer { table in
            for byte in buffer { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        }
        crc = c
    }

    /// The CRC of every byte fed so far.
    public var value: UInt32 { crc ^ 0xFFFF_FFFF }

    /// The CRC as 4 bytes, big-endian (the form sent in `Upload-Checksum: crc32 …`).
    public var digest: Data {
        let v = value
        return Data([UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
    }
}
