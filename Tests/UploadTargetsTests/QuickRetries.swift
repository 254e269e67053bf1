import TusClient

/// Retries kept short, so a stopped server fails a test in well under a second.
let quickRetries = RequestRetryPolicy(maxAttempts: 2, initialDelay: .milliseconds(10), maxDelay: .milliseconds(50))
