import Testing
import Timekeeping

@Suite("Duration in seconds")
struct DurationSecondsTests {
    @Test("whole and fractional durations", arguments: [
        (Duration.zero, 0.0), (.seconds(3), 3), (.milliseconds(1500), 1.5), (.microseconds(250), 0.000_25),
        (.nanoseconds(1), 1e-9), (.seconds(-2), -2), (.milliseconds(-500), -0.5),
    ])
    func seconds(duration: Duration, expected: Double) {
        #expect(abs(duration.seconds - expected) <= 1e-15 * max(1, abs(expected)))
    }

    @Test("attoseconds count")
    func attoseconds() {
        #expect(Duration(secondsComponent: 1, attosecondsComponent: 500_000_000_000_000_000).seconds == 1.5)
    }
}
