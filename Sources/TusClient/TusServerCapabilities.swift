import TusCore

/// What a tus server says it supports, from its answer to `OPTIONS`.
public struct TusServerCapabilities: Sendable, Equatable {
    /// Protocol versions (`Tus-Version`), preferred first.
    public var versions: [String]
    /// Extensions (`Tus-Extension`): `creation`, `creation-with-upload`, `checksum`, `termination`, ...
    public var extensions: Set<String>
    /// Largest upload the server accepts (`Tus-Max-Size`), if it says.
    public var maxSize: Int64?
    /// Checksum algorithms (`Tus-Checksum-Algorithm`), lower-case.
    public var checksumAlgorithms: [String]

    public init(versions: [String], extensions: Set<String>, maxSize: Int64?, checksumAlgorithms: [String]) {
        self.versions = versions
        self.extensions = extensions
        self.maxSize = maxSize
        self.checksumAlgorithms = checksumAlgorithms
    }

    /// What is assumed of a server that does not answer `OPTIONS` usefully: core protocol plus creation.
    public static let assumed = TusServerCapabilities(
        versions: ["1.0.0"], extensions: ["creation"], maxSize: nil, checksumAlgorithms: [])

    /// Whether the server lists `name` in `Tus-Extension`.
    public func supports(_ name: String) -> Bool { extensions.contains(name) }

    /// The algorithm for `Upload-Checksum` on PATCH requests, nil when the server takes no checksums: CRC-32
    /// when the server lists it (the cheapest to compute on both ends, and what the checksum extension is for:
    /// bytes damaged on the way), else SHA-1 (which every checksum-capable server supports), else SHA-256,
    /// else MD5.
    public var checksumAlgorithm: ChecksumAlgorithm? {
        guard supports("checksum") else { return nil }
        return [ChecksumAlgorithm.crc32, .sha1, .sha256, .md5].first { checksumAlgorithms.contains($0.rawValue) }
    }

    /// Parses the headers of an `OPTIONS` answer (`lookup` returns a header's value by name). A `Tus-Max-Size`
    /// that is not a plain non-negative number (``ByteCount``'s grammar, e.g. `-1` or `+5`) is ignored.
    static func parse(_ lookup: (String) -> String?) -> TusServerCapabilities {
        func list(_ name: String) -> [String] {
            (lookup(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        let versions = list(TusHeader.version)
        return TusServerCapabilities(
            versions: versions.isEmpty ? ["1.0.0"] : versions,
            extensions: Set(list(TusHeader.extensions)),
            maxSize: lookup(TusHeader.maxSize).flatMap {
                try? ByteCount.parse($0.trimmingCharacters(in: .whitespaces), header: TusHeader.maxSize)
            },
            checksumAlgorithms: list(TusHeader.checksumAlgorithm).map { $0.lowercased() })
    }
}
