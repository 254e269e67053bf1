import Foundation
import UploadStatus

/// The mount's one view of whether the service answers, as a value type.
///
/// Requests that fail with an outage (``UploadTargetError/isOutage``: no answer, 429, 502, 503, 504) are
/// counted; ``failuresToDeclareOutage`` of them in a row, with no answer in between, make the service
/// unreachable. While it is, the engine sends no new work and probes instead: one request at a time, the
/// delays between them growing as the file retries do (``nextProbeDelay(policy:retryAfter:)``). The first
/// answer (a probe's or a request's) ends the outage.
///
/// The count of failed probes is kept when a probe succeeds and reset only when a real request gets an
/// answer: a service that answers probes but fails every request again at once (a recovering service
/// falling over under load) is probed ever less often, not hammered.
struct ServiceHealth: Sendable {
    /// Outage failures in a row that make the service unreachable: one refused connection is a blip, and
    /// the files it hit retry on their own clocks; three with no answer in between are an outage.
    static let failuresToDeclareOutage = 3
    /// The longest wait a service's `Retry-After` can impose on the probes.
    static let longestRetryAfter: Duration = .seconds(3600)

    /// Since when the service is unreachable and the last failure seen; nil while it answers.
    private(set) var outage: (since: Date, error: String)?
    /// Outage failures with no answer since.
    private(set) var failuresInARow = 0
    /// Probes that failed since a real request last got an answer.
    private(set) var failedProbes = 0

    /// Whether the service is known to be away: no new work goes out, only probes.
    var isUnreachable: Bool { outage != nil }

    /// What the status surface shows.
    var status: ServiceStatus {
        guard let outage else { return .reachable }
        return .unreachable(since: outage.since, error: outage.error)
    }

    /// A request failed with an outage error. Returns true when this makes the service unreachable.
    mutating func requestFailed(_ error: UploadTargetError, now: Date) -> Bool {
        failuresInARow += 1
        if outage != nil {
            outage?.error = error.description
            return false
        }
        guard failuresInARow >= Self.failuresToDeclareOutage else { return false }
        outage = (now, error.description)
        return true
    }

    /// A request got an answer (success or a refusal that is not an outage). Returns true when this ends an
    /// outage.
    mutating func requestAnswered() -> Bool {
        failuresInARow = 0
        failedProbes = 0
        return endOutage()
    }

    /// A probe failed: the outage goes on.
    mutating func probeFailed(_ error: UploadTargetError) {
        failedProbes += 1
        outage?.error = error.description
    }

    /// A probe got an answer. Returns true when this ends an outage.
    mutating func probeAnswered() -> Bool {
        failuresInARow = 0
        return endOutage()
    }

    private mutating func endOutage() -> Bool {
        guard outage != nil else { return false }
        outage = nil
        return true
    }

    /// The wait before the next probe: `policy`'s backoff after the probes failed so far (the first probe
    /// after its base delay), or the service's `Retry-After` when that is longer (at most an hour).
    func nextProbeDelay(policy: RetryPolicy, retryAfter: Duration?, seed: UInt64) -> Duration {
        let backoff = policy.delay(afterAttempt: failedProbes + 1, seed: seed &+ UInt64(failedProbes))
        guard let retryAfter else { return backoff }
        return max(backoff, min(retryAfter, Self.longestRetryAfter))
    }
}
