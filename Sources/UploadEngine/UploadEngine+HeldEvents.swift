import Foundation
import Logging
import UploadStatus

/// An event the journal could not take (a full disk, an I/O error): kept, in order, and applied again until
/// it can be recorded. Nothing is dropped; the state machine only ever sees it once it is journalled.
enum HeldEvent: Sendable {
    /// From the mirror filesystem (re-applying one is harmless: a close of a file already `pending` or a
    /// rename already made changes nothing).
    case file(FileEvent)
    /// From a timer or a finished request.
    case upload(UploadEvent, path: String)

    var paths: [String] {
        switch self {
        case .file(let event): event.paths
        case .upload(_, let path): [path]
        }
    }
}

/// While the journal cannot be written, every event waits behind the first one it refused (so a file's
/// events keep their order), each file concerned shows the error (`user.tusfs.error`, and a file the journal
/// never knew shows as `local`), and the events are tried again with a backoff from 0.1 s to 5 s. Once the
/// journal takes them (space was freed), they are applied in order and the uploads go on.
extension UploadEngine {
    /// Applies `event`, or holds it when the journal refuses it or earlier events are held.
    func applyOrHold(_ event: HeldEvent) {
        guard heldEvents.isEmpty else {
            hold(event, because: nil)
            return
        }
        do { try applyHeld(event) } catch {
            hold(event, because: error)
        }
    }

    private func applyHeld(_ event: HeldEvent) throws(UploadJournalError) {
        switch event {
        case .file(let event): try apply(event)
        case .upload(let event, let path): try handle(event, at: path)
        }
    }

    func hold(_ event: HeldEvent, because error: UploadJournalError?) {
        guard !stopped else { return }
        let first = heldEvents.isEmpty
        heldEvents.append(event)
        if let error { journalError = error.description }
        let message = heldMessage
        for path in event.paths { readModel.setJournalError(message, at: path) }
        if first {
            logger.error("cannot write the journal, holding file events and retrying: \(journalError ?? "")")
            heldRetryFailures = 0
            scheduleHeldRetry()
        }
    }

    private var heldMessage: String {
        "cannot record this file's change in the journal (\(journalError ?? "unknown error")); retrying until it can"
    }

    private func scheduleHeldRetry() {
        guard !stopped else { return }
        let delay = min(Duration.milliseconds(100) * (1 << min(heldRetryFailures, 6)), .seconds(5))
        heldRetry?.cancel()
        heldRetry = Task { [weak self] in
            do { try await Task.sleep(for: delay) } catch { return }
            await self?.retryHeldEvents()
        }
    }

    /// Applies the held events in order, stopping at the first the journal still refuses.
    func retryHeldEvents() {
        heldRetry = nil
        guard !stopped else { return }
        while let event = heldEvents.first {
            do { try applyHeld(event) } catch {
                heldRetryFailures += 1
                if journalError != error.description {
                    journalError = error.description
                    let message = heldMessage
                    for held in heldEvents { for path in held.paths { readModel.setJournalError(message, at: path) } }
                }
                scheduleHeldRetry()
                return
            }
            heldEvents.removeFirst()
            let stillHeld = Set(heldEvents.flatMap(\.paths))
            for path in event.paths where !stillHeld.contains(path) { readModel.setJournalError(nil, at: path) }
        }
        logger.notice("the journal takes writes again; held file events applied")
        journalError = nil
    }
}
