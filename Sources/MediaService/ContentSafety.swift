import Foundation
import Hummingbird

/// What keeps an uploaded file from running as a page of the service's own origin when `/media/ID` is opened in
/// a browser (stored cross-site scripting): the uploader chooses the content and its MIME type.
///
/// - Every answer carries `X-Content-Type-Options: nosniff` (the browser uses the stored type, never a guess from
///   the bytes) and `Content-Security-Policy: sandbox` (a document shown anyway runs in a unique origin, without
///   scripts, forms or plug-ins).
/// - Only passive types are shown inline (``isInlineSafe(_:)``): images other than SVG, audio, video, plain text and
///   fonts. Everything else (HTML, XHTML, SVG, XML, JavaScript, PDF, unknown types) is sent with
///   `Content-Disposition: attachment`, so the browser downloads it instead of opening it.
enum ContentSafety {
    /// The headers added to every answer of `/media/ID` for a file of `mimeType` named `displayName`.
    static func headers(mimeType: String, displayName: String) -> HTTPFields {
        var fields: HTTPFields = [
            .xContentTypeOptions: "nosniff",
            .contentSecurityPolicy: "sandbox",
        ]
        if !isInlineSafe(mimeType) { fields[.contentDisposition] = attachment(displayName) }
        return fields
    }

    /// Whether a browser can show content of this type without running anything in it.
    static func isInlineSafe(_ mimeType: String) -> Bool {
        let essence = mimeType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let parts = essence.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return false }
        switch parts[0] {
        case "image": return !parts[1].contains("svg") && !parts[1].contains("xml")
        case "audio", "video", "font": return true
        case "text": return parts[1] == "plain"
        default: return essence == "application/octet-stream"
        }
    }

    /// `attachment` with the file's name: an ASCII fallback (`filename`) and the exact name (`filename*`, RFC 8187).
    static func attachment(_ displayName: String) -> String {
        let fallback = String(displayName.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "._- ".unicodeScalars.contains(scalar))
                ? Character(scalar) : "_"
        })
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "!#$&+-.^_`|~")
        let encoded = displayName.addingPercentEncoding(withAllowedCharacters: allowed) ?? fallback
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}
