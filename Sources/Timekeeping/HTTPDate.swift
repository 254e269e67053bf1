import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// HTTP dates (RFC 9110 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`) as `Upload-Expires` and `Retry-After`
/// carry them. Dates are always written in IMF-fixdate; the obsolete RFC 850 and asctime forms are accepted when
/// parsing.
public enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// One formatter per accepted form, made once: making a `DateFormatter` costs far more than parsing with one,
    /// and every PATCH answer's `Upload-Expires` is parsed. `DateFormatter` locks itself, so sharing is safe.
    private static let parsers: [DateFormatter] = [
        "EEE, dd MMM yyyy HH:mm:ss zzz",
        "EEEE, dd-MMM-yy HH:mm:ss zzz",
        "EEE MMM d HH:mm:ss yyyy",
    ].map { format in
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = format
        return formatter
    }

    /// `date` in IMF-fixdate, in GMT, to the second (fractions are dropped).
    ///
    /// Written with `gmtime_r` rather than a `DateFormatter`: the server formats `Upload-Expires` on every
    /// answer, and this takes no lock.
    public static func format(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%@, %02d %@ %04d %02d:%02d:%02d GMT", days[Int(parts.tm_wday)], parts.tm_mday,
            months[Int(parts.tm_mon)], Int(parts.tm_year) + 1900, parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    /// The date of an HTTP-date header value, or nil when it is not one.
    ///
    /// Every form is printable ASCII, and anything else is refused before it reaches `DateFormatter`: Foundation's
    /// formatter traps ("Incorrect range CFRange…") on some values holding a combining mark, such as
    /// `"Sun, \u{353}-s"`, so a server's bad `Upload-Expires` or `Retry-After` could stop the client.
    public static func parse(_ value: String) -> Date? {
        guard value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        for parser in parsers {
            if let date = parser.date(from: value) { return date }
        }
        return nil
    }
}
