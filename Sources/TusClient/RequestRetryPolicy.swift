import Foundation
import Timekeeping

/// When and how long to wait before trying a failed request again.
///
/// Exponential backoff with jitter (``Backoff``): the n-th consecutive failure waits
/// `min(maxDelay, initialDelay × multiplier^(n-1))`, of which a random share up to `jitter` is taken off so that
/// many clients do not retry in step. A server's `Retry-After` replaces the computed delay (capped at
/// `maxDelay`). The failure count starts again at zero whenever the server acknowledges new bytes, so a long
/// upload over a flaky link is never given up while it still moves; `maxAttempts` consecutive failures without
/// progress end it.
public struct RequestRetryPolicy: Sendable, Equatable {
    /// Attempts in a row that may fail without any progress before the operation fails (1 = never retry).
    public var maxAttempts: Int
    /// Wait after the first failure.
    public var initialDelay: Duration
    /// Upper bound of any wait, including one asked for by `Retry-After`.
    public var maxDelay: Duration
    /// Growth factor of the wait from one failure to the next.
    public var multiplier: Double
    /// Share of the wait (0...1) that is randomly taken off.
    public var jitter: Double
    /// Whether a 429 (the server throttles) is retried here. False for a caller that adapts to throttling
    /// itself (the mount's engine pauses and sends fewer requests at once): it gets the 429 at once.
    public var retriesThrottled = true

    public init(
        maxAttempts: Int = 10, initialDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(30),
        multiplier: Double = 2, jitter: Double = 0.5
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = max(1, multiplier)
        self.jitter = min(1, max(0, jitter))
    }

    /// The policy used when none is given: up to 10 attempts in a row, 200 ms doubling up to 30 s.
    public static let `default` = RequestRetryPolicy()
    /// Never retry.
    public static let never = RequestRetryPolicy(maxAttempts: 1)
    /// For callers with a longer retry of their own (the mount's engine, `tusfs upload`'s loop): 3 attempts
    /// within about a second absorb a blip quietly, and anything longer is theirs to wait out.
    public static let quick = RequestRetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(200), maxDelay: .seconds(2))

    /// Whether this policy retries a failure with `status`: ``isRetryable(status:)``, except a 429 when
    /// ``retriesThrottled`` is off.
    public func retries(status: Int) -> Bool {
        if status == 429 && !retriesThrottled { return false }
        return Self.isRetryable(status: status)
    }

    /// The wait before the next attempt after `failures` consecutive failures (1 for the first).
    /// - Parameters:
    ///   - retryAfter: the server's `Retry-After`, if it sent one.
    ///   - random: a number in 0..<1 (injected so tests are repeatable).
    public func delay(afterFailures failures: Int, retryAfter: Duration? = nil, random: Double) -> Duration {
        if let retryAfter { return min(max(retryAfter, .zero), maxDelay) }
        return Backoff.delay(
            initial: initialDelay, multiplier: multiplier, cap: maxDelay, failures: failures, jitter: jitter, random: random)
    }

    /// Whether an HTTP status is worth another try: 408, 409 (after a fresh HEAD), 423, 429, 460 (checksum
    /// mismatch: the chunk was discarded) and every 5xx. Other statuses fail at once.
    public static func isRetryable(status: Int) -> Bool {
        switch status {
        case 408, 409, 423, 429, 460: return true
        case 500...599: return true
        default: return false
        }
    }

    /// Parses a `Retry-After` value: delay seconds, or an HTTP date (`now` is injected for tests).
    ///
    /// A date more than ``longestRetryAfterDate`` ahead gives that wait (``delay(afterFailures:retryAfter:random:)``
    /// caps it at `maxDelay` anyway): in nanoseconds, a date centuries ahead would not fit in `Int64`.
    public static func parseRetryAfter(_ value: String, now: Date = Date()) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int64(trimmed), seconds >= 0 { return .seconds(seconds) }
        guard let date = HTTPDate.parse(trimmed) else { return nil }
        let interval = min(max(0, date.timeIntervalSince(now)), longestRetryAfterDate)
        return .nanoseconds(Int64(interval * 1e9))
    }

    /// The longest wait, in seconds, taken from a `Retry-After` date: about 31 years.
    static let longestRetryAfterDate: Double = 1e9
}
