/// How many small-file uploads may run at once, adapted to the service's answers (additive increase,
/// multiplicative decrease, as TCP does with its congestion window), as a value type.
///
/// - It starts at ``initialLimit`` (at most the cap) and, until the service first pushes back, grows by one
///   for every request that succeeds: the limit doubles every round trip, so a slow link is filled within
///   a few round trips.
/// - A push-back (``throttled(retryAfter:now:)``: 429; ``congested(now:)``: 503, timeouts, refused
///   connections) halves the limit, at most once per ``decreaseInterval`` (the requests already in flight
///   when the service pushed back fail together and count once). After that the limit grows by one per
///   limit's worth of successes (one per round trip).
/// - A 429 also pauses new requests for the wait the service asked for (`Retry-After`, at most
///   ``longestPause``; ``defaultPause`` when it named none). Requests already running go on.
///
/// The limit never goes below 1 or above the cap (`tusfs mount --max-requests`).
public struct RequestWindow: Sendable {
    /// Where the limit starts.
    public static let initialLimit = 16
    /// Push-backs within this long of the last decrease do not decrease again.
    public static let decreaseInterval: Duration = .milliseconds(500)
    /// The pause after a 429 without `Retry-After`.
    public static let defaultPause: Duration = .seconds(1)
    /// The longest pause a `Retry-After` can impose.
    public static let longestPause: Duration = .seconds(3600)

    /// The most the limit may grow to.
    public let cap: Int
    /// Small-file uploads allowed to run now (outside a pause).
    public private(set) var limit: Int
    /// Whether the service has pushed back yet: until then the limit grows by one per success.
    public private(set) var slowStart = true
    /// New requests wait until then (a 429's `Retry-After`).
    public private(set) var pausedUntil: ContinuousClock.Instant?
    /// 429 answers seen so far.
    public private(set) var throttledCount = 0
    /// The lowest the limit has been.
    public private(set) var lowestLimit: Int
    /// The highest the limit has been (it grows in slow start before the service first pushes back).
    public private(set) var highestLimit: Int
    private var successes = 0
    private var lastDecrease: ContinuousClock.Instant?

    public init(cap: Int, initialLimit: Int = RequestWindow.initialLimit) {
        self.cap = max(1, cap)
        self.limit = min(self.cap, max(1, initialLimit))
        self.lowestLimit = limit
        self.highestLimit = limit
    }

    /// How many may run at `now`: 0 during a pause, else ``limit``.
    public func allowed(at now: ContinuousClock.Instant) -> Int {
        if let pausedUntil, now < pausedUntil { return 0 }
        return limit
    }

    /// A request succeeded: the limit grows (by one, or by one per limit's worth of successes once the service
    /// has pushed back).
    public mutating func succeeded() {
        guard limit < cap else { return }
        defer { highestLimit = max(highestLimit, limit) }
        if slowStart {
            limit += 1
            return
        }
        successes += 1
        if successes >= limit {
            successes = 0
            limit += 1
        }
    }

    /// The service answered 429: the limit halves and new requests pause for `retryAfter` (or
    /// ``defaultPause``). Returns the end of the pause.
    @discardableResult
    public mutating func throttled(retryAfter: Duration?, now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        throttledCount += 1
        decrease(now: now)
        let pause = min(max(retryAfter ?? Self.defaultPause, .zero), Self.longestPause)
        let until = now + pause
        if pausedUntil.map({ $0 < until }) ?? true { pausedUntil = until }
        return pausedUntil!
    }

    /// The service failed a request in a way that says it is overloaded or away (503, timeout, refused
    /// connection): the limit halves.
    public mutating func congested(now: ContinuousClock.Instant) {
        decrease(now: now)
    }

    private mutating func decrease(now: ContinuousClock.Instant) {
        slowStart = false
        successes = 0
        if let lastDecrease, now - lastDecrease < Self.decreaseInterval { return }
        lastDecrease = now
        limit = max(1, limit / 2)
        lowestLimit = min(lowestLimit, limit)
    }
}
