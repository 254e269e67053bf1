import Foundation
import Logging
import UploadStatus

/// The mount's view of the service's health (``ServiceHealth``): every request's result is reported here.
/// When the service is unreachable no new work goes out (no upload starts, no finalize, processing poll,
/// delete or rename is sent, no upload URL is prepared) and one probe at a time asks whether it is back;
/// files keep their state (`pending`, `uploading`, `finalizing`, `processing`) and their attempt counts, and
/// the status surface names the outage. When it answers again, waiting files go on in their order.
extension UploadEngine {
    /// Reports a request that got an answer (success, or a refusal that is not an outage).
    func serviceAnswered() {
        if health.requestAnswered() { serviceCameBack() }
    }

    /// Reports a failed request. Returns true when the failure is an outage and the service is now known to
    /// be unreachable: the caller then holds the file's work instead of counting a failed attempt.
    func serviceFailed(_ error: UploadTargetError) -> Bool {
        guard error.isOutage else {
            // The service answered (a refusal, a 500); an error of our own (a cache file that cannot be read)
            // says nothing about it.
            if error.status != nil { serviceAnswered() }
            return false
        }
        if health.requestFailed(error, now: Date()) {
            logger.warning(
                "service unreachable: holding new uploads and probing until it answers",
                metadata: ["error": "\(error)", "failures_in_a_row": "\(health.failuresInARow)"])
            reachability.close()
            publishServiceStatus()
            scheduleProbe(retryAfter: error.retryAfter)
        }
        return health.isUnreachable
    }

    /// Whether the service is known to be away (no new work goes out).
    var serviceIsUnreachable: Bool { health.isUnreachable }

    private func scheduleProbe(retryAfter: Duration?) {
        guard !stopped, probeTask == nil else { return }
        let delay = health.nextProbeDelay(
            policy: configuration.retryPolicy, retryAfter: retryAfter, seed: RetryPolicy.seed("probe", Int64(slots.takeToken())))
        probeTask = Task { [weak self] in
            do { try await Task.sleep(for: delay) } catch { return }
            await self?.probeService()
        }
    }

    private func probeService() async {
        probeTask = nil
        guard !stopped, health.isUnreachable else { return }
        metrics.probes.increment()
        do throws(UploadTargetError) {
            try await target.probe()
        } catch where error.isOutage {
            guard !stopped, health.isUnreachable else { return }
            health.probeFailed(error)
            publishServiceStatus()
            logger.debug("service still unreachable", metadata: ["error": "\(error)", "probes": "\(health.failedProbes)"])
            scheduleProbe(retryAfter: error.retryAfter)
            return
        } catch {
            // Any other answer is an answer: the service is there.
        }
        if health.probeAnswered() { serviceCameBack() }
    }

    /// The service answers again: requests held during the outage go out, waiting files get their slots.
    private func serviceCameBack() {
        probeTask?.cancel()
        probeTask = nil
        let outage = readModel.service
        logger.notice(
            "service reachable again: resuming uploads",
            metadata: ["unreachable_since": "\(outage.unreachable_since ?? "?")"])
        publishServiceStatus()
        reachability.open()
        // Finalizes and processing polls held during the outage are asked again, as after a restart.
        let held = records.values.filter { record in
            (record.state == .finalizing || record.state == .processing)
                && slots.request(at: record.path) == nil && !timers.isSet(record.path)
        }
        for record in held.sorted(by: { $0.path < $1.path }) { deliver(.restarted, at: record.path) }
        pump()
    }

    private func publishServiceStatus() {
        let status = health.status
        readModel.setService(status)
        metrics.recordService(status)
    }
}
