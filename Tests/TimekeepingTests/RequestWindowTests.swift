import Testing
import Timekeeping

@Suite("Requests in flight adapt to the service (AIMD)")
struct RequestWindowTests {
    let start = ContinuousClock.now

    @Test func itDoublesEveryRoundTripUntilTheServicePushesBackThenGrowsByOnePerRoundTrip() {
        var window = RequestWindow(cap: 64, initialLimit: 4)
        #expect(window.allowed(at: start) == 4)
        for _ in 0..<4 { window.succeeded() }
        #expect(window.limit == 8, "one round trip of successes doubles it")
        for _ in 0..<100 { window.succeeded() }
        #expect(window.limit == 64, "never above the cap")
        window.congested(now: start)
        #expect(window.limit == 32)
        #expect(!window.slowStart)
        #expect(window.highestLimit == 64 && window.lowestLimit == 4, "the peak and the floor so far")
        for _ in 0..<31 { window.succeeded() }
        #expect(window.limit == 32)
        window.succeeded()
        #expect(window.limit == 33, "after a push-back: one more per limit's worth of successes")
    }

    @Test func pushBacksOfOneMomentCountOnceAndTheLimitNeverDropsBelowOne() {
        var window = RequestWindow(cap: 64, initialLimit: 64)
        for _ in 0..<50 { window.congested(now: start) }
        #expect(window.limit == 32, "the requests in flight failing together halve it once")
        window.congested(now: start + RequestWindow.decreaseInterval)
        #expect(window.limit == 16)
        var now = start
        for _ in 0..<20 {
            now += RequestWindow.decreaseInterval
            window.congested(now: now)
        }
        #expect(window.limit == 1)
        #expect(window.allowed(at: now) == 1)
    }

    @Test func aTooManyRequestsAnswerPausesForItsRetryAfter() {
        var window = RequestWindow(cap: 32, initialLimit: 16)
        let until = window.throttled(retryAfter: .seconds(2), now: start)
        #expect(until == start + .seconds(2))
        #expect(window.limit == 8)
        #expect(window.allowed(at: start + .seconds(1)) == 0, "nothing new goes out during the pause")
        #expect(window.allowed(at: start + .seconds(2)) == 8)
        // A shorter Retry-After during the pause does not shorten it; none at all waits the default.
        window.throttled(retryAfter: .milliseconds(100), now: start + .milliseconds(10))
        #expect(window.pausedUntil == start + .seconds(2))
        let later = start + .seconds(10)
        #expect(window.throttled(retryAfter: nil, now: later) == later + RequestWindow.defaultPause)
        #expect(window.throttled(retryAfter: .seconds(86_400), now: later) == later + RequestWindow.longestPause)
        #expect(window.throttledCount == 4)
    }
}
