/// The per-file timers, driven by one task that sleeps until the earliest is due.
extension UploadEngine {
    func schedule(_ path: String, after delay: Duration, _ fire: @escaping @Sendable (isolated UploadEngine, String) throws -> Void) {
        guard !stopped else { return }
        timers.set(path, due: .now + max(delay, .zero), token: slots.takeToken(), action: fire)
        armTimerDriver()
    }

    /// Makes sure a task wakes the engine when the earliest timer is due (one task for all timers).
    private func armTimerDriver() {
        guard !stopped, let due = timers.earliestDue() else { return }
        if let driver = timerDriver, driver.wakeAt <= due { return }
        timerDriver?.task.cancel()
        let id = slots.takeToken()
        let task = Task { [weak self] in
            do { try await Task.sleep(until: due, clock: .continuous) } catch { return }
            await self?.timersDue(driver: id)
        }
        timerDriver = (id, due, task)
    }

    private func timersDue(driver: UInt64) {
        guard timerDriver?.id == driver else { return }
        timerDriver = nil
        let now = ContinuousClock.now
        while let (path, fire) = timers.popDue(at: now) {
            do { try fire(self, path) } catch {
                logger.error("timer: \(error)", metadata: ["path": "\(path)"])
            }
        }
        armTimerDriver()
    }
}
