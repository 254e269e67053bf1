import Foundation

/// Exponential backoff with jitter: the one formula behind every wait between retries.
///
/// The n-th consecutive failure waits `min(cap, initial × multiplier^(n−1))`, of which a random share up to
/// `jitter` is taken off so that many clients do not retry in step.
public enum Backoff {
    /// The wait after `failures` consecutive failures (1 for the first).
    /// - Parameters:
    ///   - initial: the wait after the first failure.
    ///   - multiplier: growth of the wait from one failure to the next.
    ///   - cap: no wait is longer than this.
    ///   - failures: failures in a row so far; values below 1 count as 1.
    ///   - jitter: the share (0…1) of the wait that may be taken off.
    ///   - random: a number in 0..<1 saying how much of that share is taken off (injected so callers and tests
    ///     can make it repeatable); clamped to 0…1.
    public static func delay(
        initial: Duration, multiplier: Double, cap: Duration, failures: Int, jitter: Double, random: Double
    ) -> Duration {
        let exponent = Double(min(max(failures, 1) - 1, 1023))
        let grown = initial.seconds * pow(multiplier, exponent)
        // A zero initial wait times an infinite growth is NaN: no wait then, rather than a trap.
        let full = grown.isNaN ? 0 : max(0, min(grown, cap.seconds))
        let share = min(max(jitter, 0), 1) * min(max(random, 0), 1)
        // Whole nanoseconds (rounded, so 150 ms is exactly `.milliseconds(150)`), at most about 292 years.
        return .nanoseconds(Int64(min(full * (1 - share) * 1e9, 9.2e18).rounded()))
    }
}
