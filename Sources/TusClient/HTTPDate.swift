import Foundation

/// HTTP dates (RFC 9110 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`) as used by `Upload-Expires` and
/// `Retry-After`. The obsolete RFC 850 and asctime forms are accepted when parsing.
enum HTTPDate {
    /// One formatter per accepted form, made once: making a `DateFormatter` costs far more than parsing with one,
    /// and every PATCH answer's `Upload-Expires` is parsed. `DateFormatter` locks itself, so sharing is safe.
    private static let parsers: [DateFormatter] = [
        "EEE, dd MMM yyyy HH:mm:ss zzz",
        "EEEE, dd-MMM-yy HH:mm:ss zzz",
        "EEE MMM d HH:mm:ss yyyy",
    ].map(makeFormatter)

    private static let formatter = makeFormatter("EEE, dd MMM yyyy HH:mm:ss 'GMT'")

    private static func makeFormatter(_ format: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = format
        return formatter
    }

    /// The date of an HTTP-date header value, or nil when it is not one.
    ///
    /// Every form is printable ASCII, and anything else is refused before it reaches `DateFormatter`: Foundation's
    /// formatter traps ("Incorrect range CFRange…") on some values holding a combining mark, such as
    /// `"Sun, \u{353}-s"`, so a server's bad `Upload-Expires` or `Retry-After` could stop the client.
    static func parse(_ value: String) -> Date? {
        guard value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        for parser in parsers {
            if let date = parser.date(from: value) { return date }
        }
        return nil
    }

    static func format(_ date: Date) -> String { formatter.string(from: date) }
}
