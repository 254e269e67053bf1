import Foundation
import Testing
import Timekeeping

@Suite("HTTP dates")
struct HTTPDateTests {
    /// RFC 9110's example date, 784111777 seconds after the epoch.
    let example = Date(timeIntervalSince1970: 784_111_777)

    @Test("the three forms of RFC 9110 parse to the same date")
    func knownValues() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == example)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == example)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == example)
    }

    @Test("dates are written in IMF-fixdate, in GMT, without fractions")
    func formatting() {
        #expect(HTTPDate.format(example) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(example.addingTimeInterval(0.999)) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(Date(timeIntervalSince1970: 253_402_300_799)) == "Fri, 31 Dec 9999 23:59:59 GMT")
    }

    @Test("a formatted date parses back to itself", arguments: [0, 784_111_777, 1_750_000_000, 4_102_444_800, 253_402_300_799])
    func roundTrip(seconds: Int) throws {
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        #expect(try #require(HTTPDate.parse(HTTPDate.format(date))) == date)
    }

    @Test("what is not a date is nil", arguments: ["", "soon", "3", "Sun, 32 Nov 1994 08:49:37 GMT"])
    func notADate(value: String) {
        #expect(HTTPDate.parse(value) == nil)
    }

    /// Found by the `http-dates` fuzz target (Fuzz/corpus/http-dates/regression-combining-mark): Foundation's
    /// `DateFormatter` trapped on this value, so an `Upload-Expires` or `Retry-After` like it stopped the client.
    @Test("a date holding a combining mark is not a date, and does not crash")
    func combiningMark() {
        #expect(HTTPDate.parse("Sun, \u{353}-s") == nil)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT\u{301}") == nil)
    }
}
