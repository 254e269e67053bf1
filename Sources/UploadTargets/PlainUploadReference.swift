import Foundation
import UploadStatus

/// A plain (single PUT) upload URL as kept in `ResumeData.plainUploadURL`, together with what it was made
/// for: the folder, the file name and the size.
///
/// The service's answer to a second PUT on a used URL does not say which file the first PUT created, and
/// `terminate(resume:)` is given nothing but the resume data; so the name, folder and size travel in the URL's
/// fragment (`…#tusfs-put?filePath=%2Fa%2Fb&fileName=c.txt&size=12`). A fragment is never sent to a server;
/// it is cut off before the URL is used.
struct PlainUploadReference: Sendable, Hashable {
    /// The upload URL as stored (origin-relative or absolute, see ``RelocatableURL``), without the fragment.
    var url: String
    /// Where the file goes, when known.
    var location: RemoteLocation?
    /// The size the URL was made for, when known.
    var size: Int64?

    private static let marker = "#tusfs-put?"

    init(url: String, location: RemoteLocation?, size: Int64?) {
        self.url = url
        self.location = location
        self.size = size
    }

    /// Reads a stored string; one without the fragment (or with a fragment of its own) is just a URL.
    init(decoding stored: String) {
        guard let range = stored.range(of: Self.marker, options: .backwards) else {
            self.init(url: stored, location: nil, size: nil)
            return
        }
        let items = URLComponents(string: "?" + stored[range.upperBound...])?.queryItems ?? []
        func value(_ name: String) -> String? { items.first { $0.name == name }?.value }
        let location = value("fileName").map {
            RemoteLocation(folders: RemoteLocation.names(in: value("filePath") ?? ""), fileName: $0)
        }
        self.init(url: String(stored[..<range.lowerBound]), location: location, size: value("size").flatMap { Int64($0) })
    }

    /// The string to store.
    var encoded: String {
        guard let location else { return url }
        var fields = [("filePath", location.filePath ?? "/"), ("fileName", location.fileName)]
        if let size { fields.append(("size", String(size))) }
        // `&`, `=` and `+` inside values must not read as separators.
        let query = fields.map { "\($0.0)=\(Self.escaped($0.1))" }.joined(separator: "&")
        return url + Self.marker + query
    }

    private static func escaped(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
