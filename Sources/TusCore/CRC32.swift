import CCRC32
import Foundation

/// CRC-32 (IEEE 802.3 polynomial, the one of zlib and `cksum -a crc32b`), computed incrementally.
///
/// Computed by folding with the CPU's carry-less multiply (PCLMULQDQ) where it has one, else by zlib
/// (`Sources/CCRC32`): about 14 GB/s here (measured over 1 GiB in the page cache) against zlib's 4, SHA-1's
/// 1.8 (with SHA instructions) and MD5's 0.7. It is the checksum the tus client prefers for its chunks, and the
/// server checks it on every byte it receives.
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
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), buffer.count > 0 else { return }
        crc = tusfs_crc32(crc, base, buffer.count)
    }

    /// Whether the CRC is computed with the CPU's carry-less multiply (PCLMULQDQ) here, not by zlib alone.
    public static var isAccelerated: Bool { tusfs_crc32_is_accelerated() != 0 }

    /// The CRC of every byte fed so far.
    public var value: UInt32 { crc }

    /// The CRC as 4 bytes, big-endian (the form sent in `Upload-Checksum: crc32 …`).
    public var digest: Data {
        let v = value
        return Data([UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
    }
}
