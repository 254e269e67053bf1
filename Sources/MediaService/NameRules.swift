import Foundation

/// Checks on names, paths and other fields coming from clients: nothing with NUL, control characters, or path
/// tricks reaches the database or the disk.
enum NameRules {
    /// A display or file name: 1…200 characters, no `/`, no control characters, not `.` or `..`.
    static func checkName(_ name: String, field: String) throws -> String {
        guard !name.isEmpty else { throw MediaServiceError.invalidArgument("\(field) must not be empty") }
        guard name.count <= 200 else { throw MediaServiceError.invalidArgument("\(field) is longer than 200 characters") }
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw MediaServiceError.invalidArgument("\(field) contains a control character")
        }
        guard !name.contains("/"), name != ".", name != ".." else {
            throw MediaServiceError.invalidArgument("\(field) must not contain '/' or be '.' or '..'")
        }
        return name
    }

    /// The folder names of a `filePath` such as `/videos/2024`; empty segments are skipped.
    static func folderNames(of filePath: String) throws -> [String] {
        guard filePath.count <= 1000 else { throw MediaServiceError.invalidArgument("filePath is too long") }
        return try filePath.split(separator: "/").map { try checkName(String($0), field: "filePath segment") }
    }

    /// A MIME type: `type/subtype` of at most 100 printable characters.
    static func checkMimeType(_ mimeType: String) throws -> String {
        guard !mimeType.isEmpty else { throw MediaServiceError.invalidArgument("mimeType is required") }
        guard mimeType.count <= 100 else { throw MediaServiceError.invalidArgument("mimeType is longer than 100 characters") }
        guard mimeType.contains("/"), mimeType.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F || $0 == " " })
        else { throw MediaServiceError.invalidArgument("mimeType \"\(mimeType)\" is not a MIME type") }
        return mimeType
    }

    /// Labels: at most 100, each 1…100 characters without control characters.
    static func checkLabels(_ labels: [String]?) throws -> [String] {
        let labels = labels ?? []
        guard labels.count <= 100 else { throw MediaServiceError.invalidArgument("too many labels") }
        for label in labels where label.isEmpty || label.count > 100 || label.unicodeScalars.contains(where: { $0.value < 0x20 }) {
            throw MediaServiceError.invalidArgument("invalid label \"\(label.prefix(20))\"")
        }
        return labels
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
}
