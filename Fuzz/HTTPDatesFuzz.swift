import Foundation
import Timekeeping

// libFuzzer target `http-dates`: the HTTP-date headers the tus client reads, fed the input bytes as the value.
//
// Production code under test (compiled as is by Scripts/fuzz.sh): Timekeeping's `HTTPDate.parse` (`Upload-Expires`,
// in the three forms of RFC 9110) and TusClient's `RequestRetryPolicy.parseRetryAfter` (`Retry-After`: seconds or
// a date).
//
// Properties: nothing traps; a `Retry-After` wait is never negative; a parsed date of years 1970…9999 formats
// (`HTTPDate.format`, the IMF-fixdate form) to a value that parses to the same date.

/// The fixed "now" of `Retry-After` dates, so a run is repeatable.
private let now = Date(timeIntervalSince1970: 1_750_000_000)
/// 9999-12-31T23:59:59Z, the last date `yyyy` writes with four digits.
private let lastFourDigitYear = Date(timeIntervalSince1970: 253_402_300_799)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let value = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    if let wait = RequestRetryPolicy.parseRetryAfter(value, now: now), wait < .zero {
        fatalError("Retry-After: \(value.debugDescription) gives a negative wait \(wait)")
    }
    if let date = HTTPDate.parse(value), date.timeIntervalSince1970 >= 0, date <= lastFourDigitYear {
        let formatted = HTTPDate.format(date)
        guard HTTPDate.parse(formatted) == date else {
            fatalError("Upload-Expires: \(value.debugDescription) is \(date), formatted \(formatted.debugDescription)")
        }
    }
    return 0
}
