import Foundation
import Testing

@testable import TusClient

@Suite("Retry policy")
struct RequestRetryPolicyTests {
    let policy = RequestRetryPolicy(maxAttempts: 5, initialDelay: .milliseconds(100), maxDelay: .seconds(1), multiplier: 2, jitter: 0.5)

    @Test("delays double from the first failure and stop at the cap")
    func exponentialGrowth() {
        let delays = (1...6).map { policy.delay(afterFailures: $0, random: 0) }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
    }

    @Test("jitter takes off at most its share")
    func jitter() {
        #expect(policy.delay(afterFailures: 2, random: 1) == .milliseconds(100))
        #expect(policy.delay(afterFailures: 2, random: 0.5) == .milliseconds(150))
    }

    @Test("Retry-After replaces the computed wait, capped at maxDelay")
    func retryAfter() {
        #expect(policy.delay(afterFailures: 1, retryAfter: .milliseconds(700), random: 0) == .milliseconds(700))
        #expect(policy.delay(afterFailures: 1, retryAfter: .seconds(90), random: 0) == .seconds(1))
        #expect(RequestRetryPolicy.parseRetryAfter("3") == .seconds(3))
        let now = Date(timeIntervalSince1970: 784_111_770)  // Sun, 06 Nov 1994 08:49:30 GMT
        #expect(RequestRetryPolicy.parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == .seconds(7))
        #expect(RequestRetryPolicy.parseRetryAfter("soon") == nil)
    }

    /// Found by the `http-dates` fuzz target (Fuzz/corpus/http-dates/regression-year-9999): the wait in
    /// nanoseconds overflowed `Int64` and trapped for any date more than 292 years ahead.
    @Test("a Retry-After date centuries ahead gives a long wait, not a crash")
    func retryAfterFarAhead() {
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        let wait = RequestRetryPolicy.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now: now)
        #expect(wait == .seconds(1_000_000_000))
        #expect(policy.delay(afterFailures: 1, retryAfter: wait, random: 0) == .seconds(1))
    }

    /// Found by the `http-dates` fuzz target (Fuzz/corpus/http-dates/regression-combining-mark): Foundation's
    /// `DateFormatter` trapped on such a value, so a `Retry-After` like it stopped the client.
    @Test("a Retry-After holding a combining mark is not a wait, and does not crash")
    func retryAfterWithCombiningMark() {
        #expect(RequestRetryPolicy.parseRetryAfter("Sun, \u{353}-s") == nil)
    }

    @Test("retryable statuses", arguments: [408, 409, 423, 429, 460, 500, 502, 503, 504])
    func retryable(status: Int) {
        #expect(RequestRetryPolicy.isRetryable(status: status))
    }

    @Test("other 4xx fail at once", arguments: [400, 401, 403, 404, 410, 412, 413, 415])
    func notRetryable(status: Int) {
        #expect(!RequestRetryPolicy.isRetryable(status: status))
    }

    @Test("the budget allows maxAttempts in a row and resets on progress")
    func budget() {
        var budget = RetryBudget(policy: policy)
        for _ in 1..<5 { #expect(budget.recordFailure(retryAfter: nil, random: 0) != nil) }
        #expect(budget.recordFailure(retryAfter: nil, random: 0) == nil)
        budget.recordProgress()
        #expect(budget.recordFailure(retryAfter: nil, random: 0) == .milliseconds(100))
    }
}
