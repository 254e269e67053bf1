import Crypto
import Foundation

extension ChecksumAlgorithm {
    /// A fresh incremental hasher for this algorithm.
    public func makeHasher() -> ChecksumHasher { ChecksumHasher(self) }

    /// The digest of `bytes` in one go.
    public func digest(of bytes: some DataProtocol) -> Data {
        var hasher = makeHasher()
        hasher.update(bytes)
        return hasher.finalize()
    }
}

/// Computes a checksum over bytes fed in pieces, so a body can be hashed while it streams to disk.
///
/// Each update hashes the bytes in place: the hash state is held in its own stored property (not in an enum
/// payload, which a `switch` would copy out and back, making swift-crypto duplicate its context on every update).
///
/// A value: a copy is an independent hasher (swift-crypto copies its context on write), so a copy taken before
/// feeding a chunk can be kept to undo that chunk.
public struct ChecksumHasher: @unchecked Sendable {
    // Sendable by hand: swift-crypto's digest structs are copy-on-write values (the shared context is copied
    // before a mutation unless uniquely referenced, with atomic reference counts), as safe to send as an Array.
    /// The algorithm this hasher computes.
    public let algorithm: ChecksumAlgorithm
    // Exactly one of these is non-nil: the one for `algorithm`.
    private var sha1: Insecure.SHA1?
    private var md5: Insecure.MD5?
    private var crc32: CRC32?
    private var sha256: SHA256?

    /// A fresh hasher for `algorithm`.
    public init(_ algorithm: ChecksumAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha1: sha1 = Insecure.SHA1()
        case .md5: md5 = Insecure.MD5()
        case .crc32: crc32 = CRC32()
        case .sha256: sha256 = SHA256()
        }
    }

    /// Feeds `bytes` into the checksum.
    public mutating func update(_ bytes: some DataProtocol) {
        for region in bytes.regions {
            region.withUnsafeBytes { update(bufferPointer: $0) }
        }
    }

    /// Feeds the bytes of a raw buffer into the checksum, without copying them.
    public mutating func update(bufferPointer: UnsafeRawBufferPointer) {
        switch algorithm {
        case .sha1: sha1!.update(bufferPointer: bufferPointer)
        case .md5: md5!.update(bufferPointer: bufferPointer)
        case .crc32: crc32!.update(bufferPointer)
        case .sha256: sha256!.update(bufferPointer: bufferPointer)
        }
    }

    /// The digest of every byte fed so far.
    public func finalize() -> Data {
        switch algorithm {
        case .sha1: return Data(sha1!.finalize())
        case .md5: return Data(md5!.finalize())
        case .crc32: return crc32!.digest
        case .sha256: return Data(sha256!.finalize())
        }
    }
}

extension Array<ChecksumHasher> {
    /// The digest of each hasher, by its algorithm (the first one's, for an algorithm listed twice).
    public var digests: [ChecksumAlgorithm: Data] {
        Dictionary(map { ($0.algorithm, $0.finalize()) }, uniquingKeysWith: { first, _ in first })
    }
}

/// Why ``ChecksumHasher/update(descriptor:from:to:blockSize:)`` stopped before the end of its range.
public struct FileRangeReadError: Error, Sendable {
    /// Where reading stopped: the bytes before it were fed.
    public let position: Int64
    /// The failed read's `errno`, or nil when the file ended at ``position``.
    public let errorNumber: Int32?
}

extension ChecksumHasher {
    /// Feeds bytes `start ..< end` of the open file `descriptor`, read with `pread` (the descriptor's own
    /// position is left alone, so concurrent readers do not disturb each other) in blocks of at most
    /// `blockSize` bytes into one buffer.
    public mutating func update(descriptor: Int32, from start: Int64, to end: Int64, blockSize: Int) throws(FileRangeReadError) {
        try Self.readBlocks(descriptor: descriptor, from: start, to: end, blockSize: blockSize) { update(bufferPointer: $0) }
    }

    /// Feeds bytes `start ..< end` of the open file `descriptor` into each of `hashers`, reading every block once
    /// (see ``update(descriptor:from:to:blockSize:)``).
    public static func update(
        _ hashers: inout [ChecksumHasher], descriptor: Int32, from start: Int64, to end: Int64, blockSize: Int
    ) throws(FileRangeReadError) {
        try readBlocks(descriptor: descriptor, from: start, to: end, blockSize: blockSize) { bytes in
            for index in hashers.indices { hashers[index].update(bufferPointer: bytes) }
        }
    }

    /// Reads bytes `start ..< end` of `descriptor` with `pread` in blocks of at most `blockSize` bytes into one
    /// buffer, handing each block to `body`.
    private static func readBlocks(
        descriptor: Int32, from start: Int64, to end: Int64, blockSize: Int, _ body: (UnsafeRawBufferPointer) -> Void
    ) throws(FileRangeReadError) {
        guard end > start else { return }
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(min(Int64(blockSize), end - start)), alignment: 16)
        defer { block.deallocate() }
        var position = start
        while position < end {
            let got = pread(descriptor, block.baseAddress, Int(min(Int64(block.count), end - position)), off_t(position))
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { throw FileRangeReadError(position: position, errorNumber: got < 0 ? errno : nil) }
            body(UnsafeRawBufferPointer(rebasing: block[0..<got]))
            position += Int64(got)
        }
    }
}
