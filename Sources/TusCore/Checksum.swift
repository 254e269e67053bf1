import Crypto
import Foundation

/// The checksum algorithms of the tus checksum extension that this project implements.
public enum ChecksumAlgorithm: String, CaseIterable, Sendable, Hashable {
    /// SHA-1, the one every checksum-capable server must support.
    case sha1
    /// MD5.
    case md5
    /// CRC-32 (IEEE 802.3), digest sent as 4 bytes big-endian.
    case crc32

    /// A fresh incremental hasher for this algorithm.
    public func makeHasher() -> ChecksumHasher { ChecksumHasher(self) }

    /// The digest of `bytes` in one go.
    public func digest(of bytes: some DataProtocol) -> Data {
        var hasher = makeHasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The value of `Tus-Checksum-Algorithm` listing every algorithm here.
    public static var headerValue: String { allCases.map(\.rawValue).joined(separator: ",") }

    /// The algorithms named in a `Tus-Checksum-Algorithm` header; unknown names are skipped.
    public static func parseList(_ header: String) -> [ChecksumAlgorithm] {
        header.split(separator: ",").compactMap {
            ChecksumAlgorithm(rawValue: $0.trimmingCharacters(in: .whitespaces).lowercased())
        }
    }
}

/// Computes a checksum over bytes fed in pieces, so a body can be hashed while it streams to disk.
///
/// Each update hashes the bytes in place: the hash state is held in its own stored property (not in an enum
/// payload, which a `switch` would copy out and back, making swift-crypto duplicate its context on every update).
public struct ChecksumHasher {
    /// The algorithm this hasher computes.
    public let algorithm: ChecksumAlgorithm
    // Exactly one of these is non-nil: the one for `algorithm`.
    private var sha1: Insecure.SHA1?
    private var md5: Insecure.MD5?
    private var crc32: CRC32?

    /// A fresh hasher for `algorithm`.
    public init(_ algorithm: ChecksumAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha1: sha1 = Insecure.SHA1()
        case .md5: md5 = Insecure.MD5()
        case .crc32: crc32 = CRC32()
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
        }
    }

    /// The digest of every byte fed so far.
    public func finalize() -> Data {
        switch algorithm {
        case .sha1: return Data(sha1!.finalize())
        case .md5: return Data(md5!.finalize())
        case .crc32: return crc32!.digest
        }
    }
}

/// An `Upload-Checksum` header: `<algorithm> <base64 digest>`.
public struct UploadChecksum: Sendable, Equatable, CustomStringConvertible {
    /// The algorithm named in the header.
    public let algorithm: ChecksumAlgorithm
    /// The expected digest (decoded from base64).
    public let digest: Data

    public init(algorithm: ChecksumAlgorithm, digest: Data) {
        self.algorithm = algorithm
        self.digest = digest
    }

    /// The header value, e.g. `sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=`.
    public var headerValue: String { "\(algorithm.rawValue) \(digest.base64EncodedString())" }
    public var description: String { headerValue }

    /// True when `computed` equals the expected digest.
    public func matches(_ computed: Data) -> Bool { computed == digest }

    /// Parses an `Upload-Checksum` header value.
    /// - Throws: ``UploadChecksumError/unsupportedAlgorithm(_:)`` for an algorithm not in ``ChecksumAlgorithm``,
    ///   ``UploadChecksumError/malformed(_:)`` when the value is not `<algorithm> <base64>`.
    public static func parse(_ header: String) throws(UploadChecksumError) -> UploadChecksum {
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            throw .malformed("expected `<algorithm> <base64 digest>`, got \"\(header)\"")
        }
        guard let algorithm = ChecksumAlgorithm(rawValue: parts[0].lowercased()) else {
            throw .unsupportedAlgorithm(String(parts[0]))
        }
        guard let digest = Data(base64Encoded: String(parts[1])), !digest.isEmpty else {
            throw .malformed("the digest is not valid base64")
        }
        return UploadChecksum(algorithm: algorithm, digest: digest)
    }
}

/// An `Upload-Checksum` header the server cannot use; both cases are answered with 400 Bad Request.
public enum UploadChecksumError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The header is not `<algorithm> <base64 digest>`.
    case malformed(String)
    /// The algorithm is not one of ``ChecksumAlgorithm``.
    case unsupportedAlgorithm(String)

    public var description: String {
        switch self {
        case .malformed(let why): return "Upload-Checksum: \(why)"
        case .unsupportedAlgorithm(let name):
            return "Upload-Checksum: unsupported algorithm \"\(name)\" (supported: \(ChecksumAlgorithm.headerValue))"
        }
    }
}
