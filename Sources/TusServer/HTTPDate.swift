import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// HTTP dates (RFC 9110 IMF-fixdate), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`, as `Upload-Expires` carries them.
public enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats `date` in GMT.
    public static func format(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        return String(
            format: "%@, %02d %@ %04d %02d:%02d:%02d GMT", days[Int(tm.tm_wday)], tm.tm_mday, months[Int(tm.tm_mon)],
            Int(tm.tm_year) + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec)
    }
}
