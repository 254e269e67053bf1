import Foundation
import UploadStatus

/// One file's transition, committed to the journal (or written in the transaction of a run of events) and
/// not yet carried out: what `UploadEngine.handle` worked out, kept until the engine acts on it.
struct PlannedTransition {
    let event: UploadEvent
    /// Where the file was before the transition.
    let path: String
    /// The journal's or memory's record before, nil for a file new to the engine.
    let known: UploadRecord?
    /// The record the transition started from (`known`, or a new one).
    let record: UploadRecord
    let next: UploadRecord
    let actions: [UploadAction]
    /// Whether `next` was written to the journal, or the record removed from it (`forget`).
    let persist: Bool
    let forget: Bool
    /// The remote operations queued in the journal with it, to run once committed.
    let queuedOperations: [PendingRemoteOperation]
    let now: Date
}
