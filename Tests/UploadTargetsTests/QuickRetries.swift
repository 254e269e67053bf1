import TusClient

// Alone in its file: `RetryPolicy` is also a type of UploadEngine, and `TusClient.RetryPolicy` would name a
// member of the class `TusClient`.

/// Retries kept short, so a stopped server fails a test in well under a second.
let quickRetries = RetryPolicy(maxAttempts: 2, initialDelay: .milliseconds(10), maxDelay: .milliseconds(50))
