import Foundation
import MediaManagerAPI

/// MIME types and media kinds: the type of a file from its name (the system's `/etc/mime.types`), and the
/// Media Manager `mediaType` of a MIME type.
enum MediaKind {
    /// Extension → MIME type, read once from `/etc/mime.types` (Debian's `media-types` package).
    private static let typesByExtension: [String: String] = {
        var table: [String: String] = [:]
        guard let text = try? String(contentsOfFile: "/etc/mime.types", encoding: .utf8) else { return table }
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count > 1 else { continue }
            for ext in fields.dropFirst() where table[String(ext)] == nil { table[String(ext)] = String(fields[0]) }
        }
        return table
    }()

    /// The MIME type to store (`type/subtype`, lower case): the declared one, unless it is missing, not a valid MIME
    /// type (``MimeTypeRules``) or `application/octet-stream`, in which case the file name's extension decides.
    static func mimeType(declared: String?, fileName: String) -> String {
        if let declaredType = declared.flatMap(MimeTypeRules.normalized), declaredType != "application/octet-stream" {
            return declaredType
        }
        let ext = (fileName as NSString).pathExtension.lowercased()
        return typesByExtension[ext] ?? "application/octet-stream"
    }

    /// The `mediaType` of a MIME type.
    static func mediaType(of mimeType: String) -> MediaType {
        let type = mimeType.lowercased()
        if type == "image/svg+xml" { return .vector }
        if type.hasPrefix("image/") { return .image }
        if type.hasPrefix("video/") { return .video }
        if type.hasPrefix("audio/") { return .audio }
        if type.hasPrefix("model/") { return .model3d }
        if type.hasPrefix("text/") || type == "application/pdf" || type.contains("document") || type.contains("msword")
            || type.contains("spreadsheet") || type.contains("presentation") || type == "application/rtf"
        {
            return .document
        }
        if ["application/zip", "application/gzip", "application/x-tar", "application/x-7z-compressed",
            "application/x-rar-compressed", "application/vnd.rar", "application/x-bzip2", "application/x-xz"].contains(type)
        {
            return .archive
        }
        return .other
    }
}
