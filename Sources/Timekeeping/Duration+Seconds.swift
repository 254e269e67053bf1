extension Duration {
    /// The duration in seconds, as a floating-point number (for arithmetic such as backoff, and for
    /// APIs that take a `TimeInterval`).
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
