import Foundation
import MediaManagerAPI

/// Checks on names, paths and other text fields coming from clients: nothing with NUL, control characters,
/// bidirectional overrides or path tricks reaches the database or the disk, and nothing is larger than its limit.
///
/// Lengths are counted in Unicode scalars (code points), not in `Character`s: a letter followed by 10,000
/// combining marks is one `Character` but 10,001 scalars, so counting characters would let any size through.
enum NameRules {
    /// The longest name (`fileName`, `displayName`, `filename`, a `filePath` segment), in Unicode scalars.
    static let maxNameLength = 200
    /// The longest `filePath`, in Unicode scalars.
    static let maxPathLength = 1000
    /// At most this many labels, each at most ``maxLabelLength`` scalars.
    static let maxLabels = 100
    static let maxLabelLength = 100
    /// `externalInfo.origin` and each of `externalInfo.externalIds`: at most this many scalars.
    static let maxExternalTextLength = 100
    /// At most this many `externalInfo.externalIds`.
    static let maxExternalIds = 50
    /// The longest `search` text of `files/search`, in Unicode scalars (no name is longer).
    static let maxSearchLength = maxNameLength

    /// A display or file name: 1…200 Unicode scalars, no `/`, no control or bidirectional control characters,
    /// not `.` or `..`.
    static func checkName(_ name: String, field: String) throws -> String {
        guard !name.isEmpty else { throw MediaServiceError.invalidArgument("\(field) must not be empty") }
        try checkLength(name, field: field, limit: maxNameLength)
        try checkCharacters(name, field: field)
        guard !name.contains("/"), name != ".", name != ".." else {
            throw MediaServiceError.invalidArgument("\(field) must not contain '/' or be '.' or '..'")
        }
        return name
    }

    /// The folder names of a `filePath` such as `/videos/2024`; empty segments are skipped.
    static func folderNames(of filePath: String) throws -> [String] {
        try checkLength(filePath, field: "filePath", limit: maxPathLength)
        return try filePath.split(separator: "/").map { try checkName(String($0), field: "filePath segment") }
    }

    /// Labels: at most 100, each 1…100 Unicode scalars without control characters.
    static func checkLabels(_ labels: [String]?) throws -> [String] {
        let labels = labels ?? []
        guard labels.count <= maxLabels else { throw MediaServiceError.invalidArgument("too many labels (at most \(maxLabels))") }
        for label in labels {
            guard !label.isEmpty else { throw MediaServiceError.invalidArgument("a label must not be empty") }
            try checkLength(label, field: "label", limit: maxLabelLength)
            try checkCharacters(label, field: "label")
        }
        return labels
    }

    /// `externalInfo`: an `origin` and each of at most 50 `externalIds` of at most 100 Unicode scalars, without
    /// control characters.
    static func checkExternalInfo(_ info: ExternalInfo?) throws -> ExternalInfo? {
        guard let info else { return nil }
        if let origin = info.origin {
            try checkLength(origin, field: "externalInfo.origin", limit: maxExternalTextLength)
            try checkCharacters(origin, field: "externalInfo.origin")
        }
        let ids = info.externalIds ?? []
        guard ids.count <= maxExternalIds else {
            throw MediaServiceError.invalidArgument("too many externalInfo.externalIds (at most \(maxExternalIds))")
        }
        for id in ids {
            try checkLength(id, field: "an externalInfo.externalIds entry", limit: maxExternalTextLength)
            try checkCharacters(id, field: "an externalInfo.externalIds entry")
        }
        return info
    }

    /// The `search` text of `files/search`: at most 200 Unicode scalars (no name is longer).
    static func checkSearch(_ text: String?) throws -> String? {
        guard let text else { return nil }
        try checkLength(text, field: "search", limit: maxSearchLength)
        return text
    }

    /// A `sizeInBytes`: a string of ASCII digits, at most `limit` (the largest upload).
    static func checkSizeInBytes(_ text: String, limit: Int64) throws -> Int64 {
        guard let n = Int64(text), n >= 0, text.allSatisfy(\.isASCII) && text.allSatisfy(\.isNumber) else {
            throw MediaServiceError.invalidArgument("sizeInBytes must be a string of digits")
        }
        guard n <= limit else {
            throw MediaServiceError.tooLarge("sizeInBytes exceeds the largest upload of \(limit) bytes")
        }
        return n
    }

    /// Whether a scalar may not appear in a name or label: C0 and C1 controls and DEL; the bidirectional
    /// controls that make a name display other than it is (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069);
    /// the line and paragraph separators U+2028/U+2029.
    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        case 0x2028, 0x2029: return true
        default: return false
        }
    }

    private static func checkLength(_ text: String, field: String, limit: Int) throws {
        // Counting stops past the limit: a huge string costs no more than a short one.
        guard text.unicodeScalars.prefix(limit + 1).count <= limit else {
            throw MediaServiceError.invalidArgument("\(field) is longer than \(limit) characters (Unicode code points)")
        }
    }

    private static func checkCharacters(_ text: String, field: String) throws {
        if let scalar = text.unicodeScalars.first(where: isForbidden) {
            let code = String(scalar.value, radix: 16, uppercase: true)
            throw MediaServiceError.invalidArgument(
                "\(field) contains a control character (U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code))")
        }
    }
}
