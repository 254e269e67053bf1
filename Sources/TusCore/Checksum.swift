import Foundation

/// The checksum algorithms of the tus checksum extension that this project implements.
///
/// The hashing itself is in `ChecksumHasher.swift`, the one file of TusCore that needs swift-crypto; this file and
/// the other header parsers build with Foundation alone (the fuzz targets in `Fuzz/` compile them that way).
public enum ChecksumAlgorithm: String, CaseIterable, Sendable, Hashable {
    /// SHA-1, the one every checksum-capable server must support.
    case sha1
    /// MD5.
    case md5
    /// CRC-32 (IEEE 802.3), digest sent as 4 bytes big-endian.
    case crc32
    /// SHA-256 (also the stand-in service's content `hash`: with SHA instructions as fast as SHA-1, over twice
    /// MD5's speed).
    case sha256

    /// The value of `Tus-Checksum-Algorithm` listing every algorithm here.
    public static var headerValue: String { allCases.map(\.rawValue).joined(separator: ",") }

    /// The algorithms named in a `Tus-Checksum-Algorithm` header; unknown names are skipped.
    public static func parseList(_ header: String) -> [ChecksumAlgorithm] {
        header.split(separator: ",").compactMap {
            ChecksumAlgorithm(rawValue: $0.trimmingCharacters(in: .whitespaces).lowercased())
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
