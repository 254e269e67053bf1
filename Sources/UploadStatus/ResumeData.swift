import Foundation

/// What a crashed or interrupted upload needs to continue where the server left off: named values that
/// belong to the upload target (its upload URL, a token, …). The engine journals them as soon as the target
/// creates the upload, before any byte is sent, and hands them back on restart so the target asks the server
/// for its offset (tus HEAD) instead of starting from zero. The engine never reads the values.
public struct ResumeData: Codable, Sendable, Hashable {
    /// The target's values by name.
    public var values: [String: String]

    /// Resume data holding `values` (nil values are left out).
    public init(_ values: [String: String?] = [:]) {
        self.values = values.compactMapValues { $0 }
    }

    /// The value named `key`.
    public subscript(key: String) -> String? {
        get { values[key] }
        set { values[key] = newValue }
    }

    /// True when no value is set.
    public var isEmpty: Bool { values.isEmpty }

    /// The values as a JSON object with sorted keys, the form the journal stores; equal for equal data, so it
    /// also names the upload (queued operations on one upload run in order).
    public var json: String {
        var writer = StatusJSONWriter(capacity: 64)
        writer.writeFlatObject(values)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Reads what `json` wrote; nil for text that is not a JSON object of strings, or an empty one.
    public init?(json: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String], !object.isEmpty else {
            return nil
        }
        values = object
    }
}
