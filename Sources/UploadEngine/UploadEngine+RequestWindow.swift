import Foundation
import Timekeeping
import UploadStatus

/// The engine's side of the ``RequestWindow``: how many small-file uploads run at once grows while the service
/// answers and shrinks when it pushes back.
///
/// A 429 (the service throttles the mount) is not an outage and not a failed attempt: the file waits for its
/// turn again, new requests pause for the service's `Retry-After`, and the limit halves. The requests that were
/// in flight when the service began throttling fail together, so only the first 429 of a pause counts towards
/// the service's health (``ServiceHealth``): a service that answers nothing but 429 pause after pause is an
/// outage and is probed; one that throttles while other requests succeed is only slower. A 503 or no answer at
/// all halves the limit too, and is an outage failure as before.
extension UploadEngine {
    /// Whether a file of `size` bytes is uploaded as a small file (within the request window).
    func isSmall(_ size: Int64) -> Bool { size < configuration.smallFileSize }

    /// During a pause a 429 asked for: holds the finalize or processing poll of `path` until it ends, and
    /// returns true.
    func heldForPause(_ path: String) -> Bool {
        guard window.allowed(at: .now) == 0 else { return false }
        throttleHeld.insert(path)
        return true
    }

    /// A request got its answer: the window may grow.
    func requestSucceeded() {
        let before = window.limit
        window.succeeded()
        if window.limit != before { metrics.requestLimit.record(window.limit) }
    }

    /// Tells the window about a failed request. Returns true when the service throttled it (429): the caller
    /// holds the work, which goes on when the pause ends.
    func heldForThrottling(_ error: UploadTargetError) -> Bool {
        let now = ContinuousClock.now
        guard error.status == 429 else {
            if error.isOutage {
                window.congested(now: now)
                metrics.requestLimit.record(window.limit)
            }
            return false
        }
        metrics.throttled.increment()
        let alreadyPaused = window.allowed(at: now) == 0
        let until = window.throttled(retryAfter: error.retryAfter, now: now)
        metrics.requestLimit.record(window.limit)
        if !alreadyPaused {
            logger.info(
                "the service throttles uploads: pausing and sending fewer requests at once",
                metadata: ["error": "\(error)", "request_limit": "\(window.limit)", "pause_seconds": "\((until - now).seconds)"])
            // Once per pause towards an outage (see above); the work is held either way.
            _ = serviceFailed(error)
        }
        scheduleWake(at: until)
        publishThrottling(until: until, now: now)
        return true
    }

    private func scheduleWake(at until: ContinuousClock.Instant) {
        guard !stopped else { return }
        windowWake?.cancel()
        windowWake = Task { [weak self] in
            do { try await Task.sleep(until: until, clock: .continuous) } catch { return }
            await self?.pauseEnded()
        }
    }

    /// The pause is over: waiting files get their slots, throttled finalizes and polls are asked again.
    private func pauseEnded() {
        windowWake = nil
        guard !stopped else { return }
        let held = throttleHeld
        throttleHeld = []
        for path in held.sorted() {
            guard let record = records[path], record.state == .finalizing || record.state == .processing,
                slots.request(at: path) == nil, !timers.isSet(path)
            else { continue }
            deliver(.restarted, at: path)
        }
        publishThrottling(until: nil, now: .now)
        pump()
    }

    /// Shows the pause in the status surface (`service.throttled_until`, `service.request_limit`).
    private func publishThrottling(until: ContinuousClock.Instant?, now: ContinuousClock.Instant) {
        var status = readModel.service
        if let until {
            status.throttled_until = Date().addingTimeInterval((until - now).seconds).ISO8601Format()
            status.request_limit = window.limit
        } else {
            status.throttled_until = nil
            status.request_limit = nil
        }
        readModel.setService(status)
    }
}
