import Foundation
import MediaManagerAPI
import NIOCore

/// The JSON of the answers every upload makes (a descriptor, a batch of descriptors, an upload URL), written
/// straight into the response buffer.
///
/// Byte for byte what `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` writes for the same value
/// (keys in UTF-8 order, absent optionals left out, the same escapes; `DescriptorJSONTests` compares the
/// two): clients see no difference, and the encoder's boxing of every field is skipped. A descriptor
/// carrying `media` goes through `JSONEncoder` (this service never fills it).
protocol HandWrittenJSON: Encodable {
    /// False when the value holds something only `JSONEncoder` writes.
    var canWriteJSON: Bool { get }
    func writeJSON(to out: inout ByteBuffer)
}

extension FileDescriptorResponse: HandWrittenJSON {
    var canWriteJSON: Bool { file.media == nil }

    func writeJSON(to out: inout ByteBuffer) {
        out.writeStaticString("{\"file\":")
        file.writeJSON(to: &out)
        out.writeStaticString("}")
    }
}

extension GetFileDescriptorsResponse: HandWrittenJSON {
    var canWriteJSON: Bool { files.allSatisfy { $0.media == nil } }

    func writeJSON(to out: inout ByteBuffer) {
        out.writeStaticString("{\"files\":[")
        for (i, file) in files.enumerated() {
            if i > 0 { out.writeStaticString(",") }
            file.writeJSON(to: &out)
        }
        out.writeStaticString("]}")
    }
}

extension GenerateFileUploadURLResponse: HandWrittenJSON {
    var canWriteJSON: Bool { true }

    func writeJSON(to out: inout ByteBuffer) {
        out.writeStaticString("{\"uploadUrl\":")
        out.writeJSONString(uploadUrl)
        out.writeStaticString("}")
    }
}

extension MediaManagerAPI.FileDescriptor {
    /// The descriptor's object, `media` left out (see ``HandWrittenJSON``).
    func writeJSON(to out: inout ByteBuffer) {
        // Keys in the UTF-8 order JSONEncoder's .sortedKeys uses; `isPrivate` is the key "private".
        var fields = JSONObjectWriter(out: out)
        fields.string("createdDate", createdDate)
        fields.string("displayName", displayName)
        fields.string("hash", hash)
        fields.string("id", id)
        if let labels {
            fields.key("labels")
            fields.out.writeStaticString("[")
            for (i, label) in labels.enumerated() {
                if i > 0 { fields.out.writeStaticString(",") }
                fields.out.writeJSONString(label)
            }
            fields.out.writeStaticString("]")
        }
        fields.string("mediaType", mediaType?.rawValue)
        fields.string("operationStatus", operationStatus?.rawValue)
        fields.string("parentFolderId", parentFolderId)
        if let isPrivate {
            fields.key("private")
            if isPrivate { fields.out.writeStaticString("true") } else { fields.out.writeStaticString("false") }
        }
        fields.string("siteId", siteId)
        fields.string("sizeInBytes", sizeInBytes)
        fields.string("sourceUrl", sourceUrl)
        fields.string("state", state?.rawValue)
        fields.string("thumbnailUrl", thumbnailUrl)
        fields.string("updatedDate", updatedDate)
        fields.string("url", url)
        out = fields.finish()
    }
}

/// Writes one JSON object's members, the braces and commas included.
struct JSONObjectWriter {
    var out: ByteBuffer
    private var first = true

    init(out: ByteBuffer) {
        self.out = out
        self.out.writeStaticString("{")
    }

    /// `"name":`, after a comma unless it is the first member. `name` needs no escaping.
    mutating func key(_ name: StaticString) {
        if first { first = false } else { out.writeStaticString(",") }
        out.writeStaticString("\"")
        out.writeStaticString(name)
        out.writeStaticString("\":")
    }

    /// A string member, left out when nil.
    mutating func string(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        out.writeJSONString(value)
    }

    consuming func finish() -> ByteBuffer {
        out.writeStaticString("}")
        return out
    }
}

extension ByteBuffer {
    /// `text` as a JSON string, escaped as JSONEncoder escapes it with `.withoutEscapingSlashes`: `"` and `\`
    /// by a backslash, \b \f \n \r \t by name, other control characters as `\u00XX` (lowercase hex),
    /// everything else (non-ASCII included) as its UTF-8 bytes.
    mutating func writeJSONString(_ text: String) {
        writeStaticString("\"")
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for (i, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                writeBytes(UnsafeBufferPointer(rebasing: bytes[start..<i]))
                start = i + 1
                switch byte {
                case UInt8(ascii: "\""): writeStaticString("\\\"")
                case UInt8(ascii: "\\"): writeStaticString("\\\\")
                case 0x08: writeStaticString("\\b")
                case 0x0C: writeStaticString("\\f")
                case 0x0A: writeStaticString("\\n")
                case 0x0D: writeStaticString("\\r")
                case 0x09: writeStaticString("\\t")
                default:
                    // Below 0x20: \u0000 to \u001f.
                    writeStaticString("\\u00")
                    writeInteger(UInt8(ascii: "0") + (byte >> 4))
                    let low = byte & 15
                    writeInteger(low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + (low - 10))
                }
            }
            writeBytes(UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        writeStaticString("\"")
    }
}
