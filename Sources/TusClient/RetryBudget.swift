/// Counts failures in a row and decides whether one more attempt is allowed. Reset on progress.
public struct RetryBudget: Sendable {
    /// The policy the budget follows.
    public let policy: RequestRetryPolicy
    /// Failures since the last progress.
    public private(set) var consecutiveFailures = 0

    public init(policy: RequestRetryPolicy) { self.policy = policy }

    /// Records a failure; returns the wait before the next attempt, or nil when the budget is spent.
    public mutating func recordFailure(retryAfter: Duration?, random: Double) -> Duration? {
        consecutiveFailures += 1
        guard consecutiveFailures < policy.maxAttempts else { return nil }
        return policy.delay(afterFailures: consecutiveFailures, retryAfter: retryAfter, random: random)
    }

    /// The server acknowledged new bytes: the next failure starts from the first delay again.
    public mutating func recordProgress() { consecutiveFailures = 0 }
}
