import Logging
import Synchronization
import Timekeeping

/// The ``RequestWindow`` of one `tusfs upload` run, shared by the uploads running side by side: they report
/// how the service answered, the loop that starts uploads asks how many may run.
final class SharedRequestWindow: Sendable {
    private let window: Mutex<RequestWindow>
    private let logger: Logger

    init(cap: Int, logger: Logger) {
        window = Mutex(RequestWindow(cap: cap))
        self.logger = logger
    }

    /// How many small-file uploads may run now, or the end of the pause a 429 asked for.
    func allowed() -> (count: Int, pausedUntil: ContinuousClock.Instant?) {
        let now = ContinuousClock.now
        return window.withLock { window in
            let count = window.allowed(at: now)  // 0 only during a pause: the limit is at least 1
            return (count, count == 0 ? window.pausedUntil : nil)
        }
    }

    /// An upload ended well.
    func succeeded() { window.withLock { $0.succeeded() } }

    /// The service answered 429: fewer at a time, and a pause. Returns when the pause ends.
    func throttled(retryAfter: Duration?) -> ContinuousClock.Instant {
        let (until, limit) = window.withLock { window in
            let until = window.throttled(retryAfter: retryAfter, now: .now)
            return (until, window.limit)
        }
        logger.info("the service throttles (429): at most \(limit) small files at once now", metadata: [
            "retry_after_ms": "\(retryAfter.map { Int($0.seconds * 1000) } ?? -1)",
        ])
        return until
    }

    /// A try failed in a way that says the service is overloaded or away (5xx, no answer): fewer at a time.
    func congested() { window.withLock { $0.congested(now: .now) } }
}
