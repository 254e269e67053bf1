import Foundation

/// The `Upload-Metadata` of a tus upload: keys with (possibly empty) binary values.
///
/// On the wire it is a comma-separated list of `key base64value` pairs; a key alone (or followed by a space
/// and nothing) means an empty value. Keys are unique, non-empty, and contain no spaces, commas or control
/// characters. ``parse(_:)`` enforces all of that and rejects values that are not valid, padded base64.
public struct UploadMetadata: Sendable, Equatable, CustomStringConvertible {
    /// The keys, in the order they were added or parsed.
    public private(set) var keys: [String] = []
    private var values: [String: Data] = [:]

    /// Empty metadata.
    public init() {}

    /// Metadata holding `pairs` as UTF-8 text, keys in sorted order.
    /// - Throws: ``UploadMetadataError`` when a key is not allowed.
    public init(_ pairs: [String: String]) throws(UploadMetadataError) {
        for key in pairs.keys.sorted() {
            try setValue(Data(pairs[key]!.utf8), forKey: key)
        }
    }

    /// True when there are no keys.
    public var isEmpty: Bool { keys.isEmpty }

    /// The value of `key` as UTF-8 text (invalid sequences repaired), or nil when the key is absent.
    public subscript(key: String) -> String? {
        values[key].map { String(decoding: $0, as: UTF8.self) }
    }

    /// The raw value of `key`, or nil when the key is absent.
    public func data(forKey key: String) -> Data? { values[key] }

    /// Sets (or replaces) the value of `key`.
    /// - Throws: ``UploadMetadataError`` when the key is empty or holds a space, comma or control character.
    public mutating func setValue(_ value: Data, forKey key: String) throws(UploadMetadataError) {
        try Self.validate(key: key)
        if values.updateValue(value, forKey: key) == nil { keys.append(key) }
    }

    /// Sets (or replaces) the value of `key` to the UTF-8 bytes of `value`.
    public mutating func setValue(_ value: String, forKey key: String) throws(UploadMetadataError) {
        try setValue(Data(value.utf8), forKey: key)
    }

    /// Removes `key` and its value, if present.
    public mutating func removeValue(forKey key: String) {
        guard values.removeValue(forKey: key) != nil else { return }
        keys.removeAll { $0 == key }
    }

    /// The `Upload-Metadata` header value: `key base64`, comma-separated; an empty value is sent as the key alone.
    public var headerValue: String {
        keys.map { key in
            let value = values[key]!
            return value.isEmpty ? key : "\(key) \(value.base64EncodedString())"
        }.joined(separator: ",")
    }

    public var description: String { headerValue }

    /// Parses an `Upload-Metadata` header value. An empty or all-space header is empty metadata.
    ///
    /// The header is split at the Unicode scalars `,` and ` `, not at characters: a key may start with a
    /// combining mark or a joiner (e.g. U+0301, U+200D) that would otherwise fuse with the comma before it into a
    /// single `Character`, and then whatever ``headerValue`` wrote could not be read back.
    /// - Throws: ``UploadMetadataError`` for an invalid key, a duplicate key, or a value that is not valid base64.
    public static func parse(_ header: String) throws(UploadMetadataError) -> UploadMetadata {
        var metadata = UploadMetadata()
        let scalars = header.unicodeScalars
        if scalars.allSatisfy({ $0 == " " }) { return metadata }
        for rawPair in scalars.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = rawPair.drop { $0 == " " }
            guard !pair.isEmpty else { throw UploadMetadataError("an empty entry between commas") }
            let parts = pair.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(Substring(parts[0]))
            try validate(key: key)
            var encoded = parts.count > 1 ? parts[1] : pair[pair.endIndex...]
            while encoded.last == " " { encoded = encoded.dropLast() }
            guard !encoded.contains(" ") else {
                throw UploadMetadataError("the value of \"\(key)\" holds a space; expected `key base64value`")
            }
            let value: Data
            if encoded.isEmpty {
                value = Data()
            } else {
                guard let decoded = Data(base64Encoded: String(Substring(encoded))) else {
                    throw UploadMetadataError("the value of \"\(key)\" is not valid base64")
                }
                value = decoded
            }
            guard metadata.values[key] == nil else {
                throw UploadMetadataError("the key \"\(key)\" appears more than once")
            }
            try metadata.setValue(value, forKey: key)
        }
        return metadata
    }

    private static func validate(key: String) throws(UploadMetadataError) {
        guard !key.isEmpty else { throw UploadMetadataError("a key is empty") }
        for scalar in key.unicodeScalars {
            if scalar == " " || scalar == "," || scalar.value < 0x20 || scalar.value == 0x7F {
                throw UploadMetadataError("the key \"\(key.debugDescription.dropFirst().dropLast())\" holds a space, comma or control character")
            }
        }
    }
}

/// `Upload-Metadata` that breaks the tus rules; servers answer it with 400 Bad Request.
public struct UploadMetadataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "Upload-Metadata: \(message)" }
}
