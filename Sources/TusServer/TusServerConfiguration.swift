import Foundation
import Synchronization

/// Settings of a ``TusEndpoint``.
public struct TusServerConfiguration: Sendable {
    /// Where upload data and info records are stored (created if missing).
    public var storageDirectory: URL
    /// The largest upload accepted (`Tus-Max-Size`), or nil for no limit.
    public var maxSize: Int64?
    /// How long an unfinished upload lives after creation (`Upload-Expires`), or nil for ever.
    public var uploadLifetime: Duration?
    /// How long a request waits for another writer of the same upload to finish before it gets 423 Locked.
    public var lockWait: Duration
    /// Faults to inject, for tests.
    public var faults: FaultInjection
    /// Whether a GET of a finished upload's URL answers with its data (as tusd does), so that a client can read
    /// back what it uploaded.
    public var servesData: Bool

    public init(
        storageDirectory: URL, maxSize: Int64? = nil, uploadLifetime: Duration? = .seconds(24 * 3600),
        lockWait: Duration = .milliseconds(500), faults: FaultInjection = .init(), servesData: Bool = true
    ) {
        self.servesData = servesData
        self.storageDirectory = storageDirectory
        self.maxSize = maxSize
        self.uploadLifetime = uploadLifetime
        self.lockWait = lockWait
        self.faults = faults
    }
}

/// Faults injected into upload requests (PATCH, creation-with-upload POST, and the media service's PUT), for tests.
/// All off by default.
public struct FaultInjection: Sendable, Equatable {
    /// Probability (0…1) that an upload request is answered 503 before its body is read.
    public var failureRate: Double
    /// Close the connection once this many body bytes of a request have been received (they are kept).
    /// Each upload (tus upload, or plain upload URL) is cut once, so its retry can succeed.
    public var dropAfterBytes: Int64?
    /// Delay added before every request is handled.
    public var latency: Duration?

    public init(failureRate: Double = 0, dropAfterBytes: Int64? = nil, latency: Duration? = nil) {
        self.failureRate = failureRate
        self.dropAfterBytes = dropAfterBytes
        self.latency = latency
    }

    /// True when any fault is on.
    public var isActive: Bool { failureRate > 0 || dropAfterBytes != nil || latency != nil }

    /// Draws whether this request fails.
    public func shouldFail() -> Bool { failureRate > 0 && Double.random(in: 0..<1) < failureRate }
}

/// Remembers which uploads already had their connection cut by ``FaultInjection/dropAfterBytes``, so each upload
/// is cut once and its retry can get through.
public final class ConnectionDropper: Sendable {
    private let dropAfterBytes: Int64?
    private let dropped = Mutex(Set<String>())

    public init(dropAfterBytes: Int64?) { self.dropAfterBytes = dropAfterBytes }

    /// The byte count after which a request for `upload` should be cut, or nil when it should not be.
    public func threshold(for upload: String) -> Int64? {
        guard let dropAfterBytes else { return nil }
        return dropped.withLock { $0.contains(upload) } ? nil : dropAfterBytes
    }

    /// Records that the connection of a request for `upload` was cut.
    public func markDropped(_ upload: String) {
        _ = dropped.withLock { $0.insert(upload) }
    }
}
