import Testing
import Timekeeping

@Suite("Backoff")
struct BackoffTests {
    func delay(_ failures: Int, jitter: Double = 0, random: Double = 0) -> Duration {
        Backoff.delay(
            initial: .milliseconds(100), multiplier: 2, cap: .seconds(1), failures: failures, jitter: jitter, random: random)
    }

    @Test("delays grow by the multiplier from the first failure and stop at the cap")
    func growthAndCap() {
        #expect((1...7).map { delay($0) } == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1),
            .seconds(1),
        ])
        #expect(delay(0) == .milliseconds(100))
        #expect(delay(10_000) == .seconds(1))
        #expect(delay(.max) == .seconds(1))
    }

    @Test("jitter takes off at most its share")
    func jitter() {
        #expect(delay(2, jitter: 0.5, random: 1) == .milliseconds(100))
        #expect(delay(2, jitter: 0.5, random: 0.5) == .milliseconds(150))
        #expect(delay(2, jitter: 0.5, random: 0) == .milliseconds(200))
        #expect(delay(2, jitter: 1, random: 1) == .zero)
    }

    @Test("every jittered delay lies in [(1 − jitter) · d, d]")
    func jitterBounds() {
        var generator = SplitMix64(seed: 1)
        for failures in 1...8 {
            let full = delay(failures)
            for _ in 0..<50 {
                let random = Double.random(in: 0..<1, using: &generator)
                let jittered = delay(failures, jitter: 0.3, random: random)
                #expect(jittered <= full)
                #expect(jittered >= full * 0.7 - .nanoseconds(1))
            }
        }
    }

    @Test("out-of-range jitter and random are clamped; a zero start waits nothing")
    func clamping() {
        #expect(delay(1, jitter: 2, random: 0.5) == .milliseconds(50))
        #expect(delay(1, jitter: -1, random: 0.5) == .milliseconds(100))
        #expect(delay(1, jitter: 0.5, random: 7) == .milliseconds(50))
        #expect(delay(1, jitter: 0.5, random: -7) == .milliseconds(100))
        #expect(Backoff.delay(initial: .zero, multiplier: 10, cap: .seconds(5), failures: 2000, jitter: 0, random: 0) == .zero)
    }

    @Test("a cap centuries long does not overflow")
    func hugeCap() {
        let wait = Backoff.delay(
            initial: .seconds(1), multiplier: 10, cap: .seconds(Int64.max / 2), failures: 400, jitter: 0, random: 0)
        #expect(wait > .seconds(9_000_000_000))
    }
}
