import Synchronization

/// `tusfs serve --rate-limit N`: at most N requests per second, as a token bucket holding one second's worth
/// (a burst of N, then N per second). A request past the limit is answered 429 with `Retry-After` (whole
/// seconds: the wait until the bucket holds a token again, at least 1) and changes nothing; it takes no token.
final class RequestRateLimit: Sendable {
    /// Requests per second.
    let rate: Int
    private struct Bucket {
        var tokens: Double
        var last: ContinuousClock.Instant
    }
    private let bucket: Mutex<Bucket>

    init(rate: Int) {
        self.rate = max(1, rate)
        bucket = Mutex(Bucket(tokens: Double(max(1, rate)), last: .now))
    }

    /// Takes a token for a request at `now`: nil when the request may go on, else the seconds to wait.
    func take(now: ContinuousClock.Instant = .now) -> Int? {
        bucket.withLock { bucket in
            let elapsed = now - bucket.last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(Double(rate), bucket.tokens + max(0, seconds) * Double(rate))
            bucket.last = now
            guard bucket.tokens < 1 else {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / Double(rate)).rounded(.up)))
        }
    }
}
