import CZlib
import Foundation

/// CRC-32 (IEEE 802.3 polynomial, the one of zlib and `cksum -a crc32b`), computed incrementally.
///
/// zlib computes it (4 GB/s here, twice SHA-1 with the CPU's SHA instructions, five times MD5): it is the
/// checksum the tus client prefers for its chunks.
public struct CRC32: Sendable {
    private var crc: UInt32 = 0

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
        guard var base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), buffer.count > 0 else { return }
        var left = buffer.count
        while left > 0 {
            let piece = min(left, 1 << 30)  // zlib counts in 32 bits
            crc = UInt32(truncatingIfNeeded: crc32(uLong(crc), base, uInt(piece)))
            base += piece
            left -= piece
        }
    }

    /// The CRC of every byte fed so far.
    public var value: UInt32 { crc }

    /// The CRC as 4 bytes, big-endian (the form sent in `Upload-Checksum: crc32 …`).
    public var digest: Data {
        let v = value
        return Data([UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
    }
}
