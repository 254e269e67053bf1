import Foundation
import Testing
@testable import UploadEngine
import UploadStatus

/// The mount's view of the service's health: when an outage begins and ends, and how far apart probes go.
struct ServiceHealthTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let refused = UploadTargetError.unreachable("connection refused")

    @Test func threeOutageFailuresInARowMakeTheServiceUnreachable() {
        var health = ServiceHealth()
        let result1 = health.requestFailed(refused, now: t0)
        #expect(!result1)
        let result2 = health.requestFailed(.retryable("busy", status: 503), now: t0)
        #expect(!result2)
        #expect(!health.isUnreachable)
        let result3 = health.requestFailed(refused, now: t0.addingTimeInterval(1))
        #expect(result3)
        #expect(health.isUnreachable)
        #expect(health.status == .unreachable(since: t0.addingTimeInterval(1), error: "connection refused"))
        // More failures keep the start of the outage and show the latest reason.
        let result4 = health.requestFailed(.retryable("busy", status: 503), now: t0.addingTimeInterval(9))
        #expect(!result4)
        #expect(health.status == .unreachable(since: t0.addingTimeInterval(1), error: "503: busy"))
    }

    @Test func anAnswerInBetweenStartsTheCountAgain() {
        var health = ServiceHealth()
        _ = health.requestFailed(refused, now: t0)
        _ = health.requestFailed(refused, now: t0)
        let result5 = health.requestAnswered()
        #expect(!result5)
        _ = health.requestFailed(refused, now: t0)
        _ = health.requestFailed(refused, now: t0)
        #expect(!health.isUnreachable)
        let result6 = health.requestFailed(refused, now: t0)
        #expect(result6)
        let result7 = health.requestAnswered()
        #expect(result7, "an answer ends the outage")
        #expect(health.status == .reachable)
    }

    @Test func whatIsAnOutage() {
        #expect(refused.isOutage)
        for status in [429, 502, 503, 504] { #expect(UploadTargetError.retryable("x", status: status).isOutage) }
        // The service answered and refused this request, or failed on it alone: the file's own retry.
        for status in [408, 500, 501] { #expect(!UploadTargetError.retryable("x", status: status).isOutage) }
        #expect(!UploadTargetError.permanent("x", status: 400).isOutage)
        #expect(!UploadTargetError.permanent("x", status: 503).isOutage, "a permanent error is never an outage")
        #expect(!UploadTargetError.retryable("cancelled").isOutage)
    }

    @Test func probesBackOffToTheCapAndFollowRetryAfter() {
        let policy = RetryPolicy(base: .seconds(1), cap: .seconds(2), jitter: 0.5)
        var health = ServiceHealth()
        for _ in 0..<3 { _ = health.requestFailed(refused, now: t0) }
        let first = health.nextProbeDelay(policy: policy, retryAfter: nil, seed: 1)
        #expect(first >= .milliseconds(500) && first <= .seconds(1))
        for _ in 0..<10 { health.probeFailed(refused) }
        for seed in UInt64(0)..<50 {
            let delay = health.nextProbeDelay(policy: policy, retryAfter: nil, seed: seed)
            #expect(delay >= .seconds(1) && delay <= .seconds(2), "capped at 2 s with half of it jitter: \(delay)")
        }
        #expect(health.nextProbeDelay(policy: policy, retryAfter: .seconds(30), seed: 1) == .seconds(30))
        #expect(health.nextProbeDelay(policy: policy, retryAfter: .seconds(86_400), seed: 1) == .seconds(3600))
    }

    @Test func aProbeAnswerKeepsTheProbeBackoffUntilARequestSucceeds() {
        var health = ServiceHealth()
        for _ in 0..<3 { _ = health.requestFailed(refused, now: t0) }
        for _ in 0..<4 { health.probeFailed(refused) }
        let result8 = health.probeAnswered()
        #expect(result8)
        #expect(health.failedProbes == 4, "a service that falls over again at once is probed less often")
        let result9 = health.requestAnswered()
        #expect(!result9)
        #expect(health.failedProbes == 0)
    }
}
