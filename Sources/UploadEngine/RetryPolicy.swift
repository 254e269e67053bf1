import Foundation
import Timekeeping

/// Exponential backoff with jitter and a cap, used for retries of failed uploads and for processing polls.
///
/// The jitter is derived from a seed (the file's path, generation and attempt), so the state machine stays
/// a pure function and tests can predict it.
public struct RetryPolicy: Sendable, Hashable {
    /// Delay before the first retry.
    public var base: Duration
    /// No delay is longer than this.
    public var cap: Duration
    /// Failures after which automatic retries stop (the user can still retry). Unlimited by default: a
    /// failure that may pass (network, timeout, 408, 429, 5xx) is retried for as long as it takes, each wait
    /// at most `cap`, so no outage, however long, leaves a file failed for good.
    public var maxAttempts: Int
    /// Fraction of the delay that is random: 0.5 means a delay in [d/2, d].
    public var jitter: Double

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(300), maxAttempts: Int = .max, jitter: Double = 0.5) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The default spacing of processing polls: the first 0.24–0.3 s after the upload (a small file is often
    /// processed by then; the polls of many files within 20 ms go as one request), then doubling up to 2 s.
    /// A higher cap left a large file READY for seconds before the mount noticed (polls 4.8, then 9.6 s
    /// apart: a 1 GiB upload measured 5.5 s or 14.5 s to READY depending on which poll caught it); the polls
    /// of files processed at the same time share their Get File Descriptors requests, so the cost is small.
    public static let processingPolls = RetryPolicy(base: .milliseconds(300), cap: .seconds(2), maxAttempts: .max, jitter: 0.2)

    /// The spacing of processing polls when the service's webhooks tell the mount when a file is processed:
    /// polls are only the fallback for a webhook that never came (the service could not reach the mount), the
    /// first 4–5 s after the upload, then doubling up to 30 s.
    public static let processingPollsBesideWebhooks = RetryPolicy(base: .seconds(5), cap: .seconds(30), maxAttempts: .max, jitter: 0.2)

    /// The delay before attempt `attempt + 1`, where `attempt` counts from 1: base·2^(attempt−1), jittered,
    /// never above `cap`.
    public func delay(afterAttempt attempt: Int, seed: UInt64) -> Duration {
        Backoff.delay(
            initial: base, multiplier: 2, cap: cap, failures: attempt, jitter: jitter,
            random: SplitMix64.unitInterval(SplitMix64.mix(seed)))
    }

    /// A stable hash of `text`, for seeding `delay(afterAttempt:seed:)`.
    public static func seed(_ text: String, _ numbers: Int64...) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        for number in numbers { hash = (hash ^ UInt64(bitPattern: number)) &* 0x100_0000_01b3 }
        return hash
    }
}

extension Date {
    func adding(_ duration: Duration) -> Date { addingTimeInterval(duration.seconds) }
}
