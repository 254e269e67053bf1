import MediaManagerAPI

/// Checks on `mimeType` (and `Content-Type`, tus `filetype`) and `mediaType` values coming from clients.
enum MimeTypeRules {
    /// The registered top-level MIME types (RFC 6838, 4735, 8081, 9695), and `chemical`, which `/etc/mime.types`
    /// (and so the mount's type detection) uses. Experimental `x-…` top-level types are accepted too.
    static let topLevelTypes: Set<String> = [
        "application", "audio", "chemical", "example", "font", "haptics", "image", "message", "model", "multipart", "text",
        "video",
    ]

    /// The `mediaType` values of the Media Manager API.
    static let mediaTypes: Set<MediaType> = [
        .unknown, .image, .video, .audio, .document, .vector, .archive, .model3d, .other,
    ]

    /// A MIME type `type/subtype` (parameters such as `; charset=utf-8` are allowed and dropped), with a known
    /// top-level type (``topLevelTypes``, or `x-…`) and a subtype of RFC 6838 restricted-name characters. Returns
    /// `type/subtype` in lower case.
    static func check(_ mimeType: String, field: String = "mimeType") throws -> String {
        guard !mimeType.isEmpty else { throw MediaServiceError.invalidArgument("\(field) is required") }
        guard let normalized = normalized(mimeType) else {
            throw MediaServiceError.invalidArgument(
                "\(field) \"\(String(mimeType.unicodeScalars.prefix(100)))\" is not a MIME type (type/subtype, e.g. image/jpeg)")
        }
        return normalized
    }

    /// `type/subtype` of a valid MIME type, in lower case; nil when `text` is not one.
    static func normalized(_ text: String) -> String? {
        guard text.utf8.count <= 255 else { return nil }
        let parts = text.split(separator: ";", omittingEmptySubsequences: false)
        let essence = parts[0].trimmingSpaces().lowercased()
        let halves = essence.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2, isTopLevelType(halves[0]), isRestrictedName(halves[1]) else { return nil }
        for parameter in parts.dropFirst() {
            let pair = parameter.trimmingSpaces().split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, isToken(pair[0]), isToken(pair[1]) || isQuoted(pair[1]) else { return nil }
        }
        return essence
    }

    /// Throws unless every value is a `mediaType` of the API.
    static func checkMediaTypes(_ values: [MediaType], field: String = "mediaType") throws {
        for value in values where !mediaTypes.contains(value) {
            throw MediaServiceError.invalidArgument(
                "\(field) \"\(String(value.rawValue.unicodeScalars.prefix(40)))\" is not one of \(mediaTypes.map(\.rawValue).sorted().joined(separator: ", "))")
        }
    }

    static func isTopLevelType(_ type: Substring) -> Bool {
        topLevelTypes.contains(String(type)) || (type.hasPrefix("x-") && isRestrictedName(type.dropFirst(2)))
    }

    /// RFC 6838 `restricted-name`: 1…127 characters, a letter or digit first, then letters, digits and `!#$&-^_.+`.
    private static func isRestrictedName(_ name: Substring) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...127).contains(bytes.count), isAlphanumeric(bytes[0]) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || "!#$&-^_.+".utf8.contains($0) }
    }

    /// An RFC 9110 token.
    private static func isToken(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { isAlphanumeric($0) || "!#$%&'*+-.^_`|~".utf8.contains($0) }
    }

    /// A quoted string of printable ASCII without `"` or `\` inside.
    private static func isQuoted(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") else { return false }
        return bytes.dropFirst().dropLast().allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate func trimmingSpaces() -> Substring {
        var s = self
        while let first = s.first, first == " " || first == "\t" { s = s.dropFirst() }
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        return s
    }
}
