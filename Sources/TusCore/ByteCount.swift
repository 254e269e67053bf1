/// Parses the byte counts tus carries in headers: `Upload-Offset`, `Upload-Length`, `Tus-Max-Size`.
///
/// The grammar is strict: one or more ASCII digits, nothing else (no sign, no spaces, no exponent), and the value
/// must fit in `Int64`. So `"-1"`, `"+1"`, `"1e3"`, `" 1"`, `""` and `"99999999999999999999"` are all rejected;
/// leading zeros are allowed (`"000…0800"` is 800, however many zeros).
public enum ByteCount {
    /// The value of `text` as a non-negative byte count.
    /// - Parameter header: the header's name, used in the error message.
    /// - Throws: ``TusHeaderError`` when `text` is not a plain non-negative decimal number within `Int64`.
    public static func parse(_ text: some StringProtocol, header: String) throws(TusHeaderError) -> Int64 {
        let utf8 = text.utf8
        guard !utf8.isEmpty else {
            throw TusHeaderError(header: header, message: "must be a non-negative integer, got an empty value")
        }
        var value: Int64 = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                throw TusHeaderError(header: header, message: "must be a non-negative integer of digits only, got \"\(text)\"")
            }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else {
                throw TusHeaderError(header: header, message: "value is too large")
            }
            value = sum
        }
        return value
    }
}

/// `Upload-Offset` values.
public enum UploadOffset {
    /// Parses an `Upload-Offset` header value (see ``ByteCount/parse(_:header:)`` for the grammar).
    public static func parse(_ text: some StringProtocol) throws(TusHeaderError) -> Int64 {
        try ByteCount.parse(text, header: TusHeader.uploadOffset)
    }
}

/// `Upload-Length` values.
public enum UploadLength {
    /// Parses an `Upload-Length` header value (see ``ByteCount/parse(_:header:)`` for the grammar).
    public static func parse(_ text: some StringProtocol) throws(TusHeaderError) -> Int64 {
        try ByteCount.parse(text, header: TusHeader.uploadLength)
    }
}
