import Foundation

/// Whether the service answers, as the status surface shows it: `status.json`'s `service`, the `service`
/// of `user.tusfs.summary`, and the error of every file waiting for it during an outage.
public struct ServiceStatus: Codable, Sendable, Hashable {
    /// False while the mount holds its uploads because the service does not answer.
    public var reachable: Bool
    /// When the outage began (RFC 3339), while unreachable.
    public var unreachable_since: String?
    /// The last failure seen (a refused connection, a 503…), while unreachable.
    public var error: String?
    /// While the service throttles the mount (it answered 429): until when (RFC 3339) no new request goes
    /// out, as its `Retry-After` asked.
    public var throttled_until: String?
    /// While throttled: the requests the mount lets run at once now (it grows back as the service answers).
    public var request_limit: Int?

    public init(
        reachable: Bool, unreachable_since: String? = nil, error: String? = nil, throttled_until: String? = nil,
        request_limit: Int? = nil
    ) {
        self.reachable = reachable
        self.unreachable_since = unreachable_since
        self.error = error
        self.throttled_until = throttled_until
        self.request_limit = request_limit
    }

    /// The service answers.
    public static let reachable = ServiceStatus(reachable: true)

    /// The service does not answer since `since`; `error` is the last failure.
    public static func unreachable(since: Date, error: String) -> ServiceStatus {
        ServiceStatus(reachable: false, unreachable_since: since.ISO8601Format(), error: error)
    }

    /// "service throttles uploads until T (requests at once: N)" while the service throttles the mount, or nil.
    public var throttleLine: String? {
        guard let throttled_until else { return nil }
        return "service throttles uploads until \(throttled_until)" + (request_limit.map { " (requests at once: \($0))" } ?? "")
    }

    /// "service unreachable since T: error", or nil while reachable: the `user.tusfs.error` of the files
    /// that wait for the service, and the reason `tusfs wait` gives.
    public var outageLine: String? {
        guard !reachable else { return nil }
        var line = "service unreachable since \(unreachable_since ?? "?")"
        if let error { line += ": " + error.split(whereSeparator: \.isNewline).joined(separator: " ") }
        return line + " (uploads resume when it answers)"
    }
}

extension UploadRecord {
    /// The record as the status surface shows it while `service` is unreachable: a file that waits for the
    /// service (pending, uploading, finalizing, processing) gives the outage as its error.
    public func showing(_ service: ServiceStatus) -> UploadRecord {
        guard let line = service.outageLine, state.waitsForService else { return self }
        var shown = self
        shown.error = line
        return shown
    }
}
