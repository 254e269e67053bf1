import Foundation
import UploadStatus

/// Something the engine must do after a transition. Actions are data: the state machine decides, the
/// engine carries them out in order, `persist`/`forget` first.
public enum UploadAction: Sendable, Hashable {
    /// Commit the new record to the journal before anything else happens.
    case persist
    /// Delete the record from the journal (the file is gone).
    case forget
    /// Deliver `writeBackElapsed` after this delay (restarts any earlier one).
    case scheduleWriteBack(after: Duration)
    /// Let the target get ready for the upload while the file waits out its write-back delay (read its
    /// content type, ask for an upload URL): ``UploadTarget/prepare(file:remotePath:)``, a hint.
    case prepare
    /// Queue the file for a transfer slot; the engine answers with `slotGranted`.
    case enqueue
    /// Queue the file at the head of the line: an upload an outage interrupted goes on before files that
    /// have not started.
    case enqueueFirst
    /// Start the upload, or continue it from the server's offset when `resume` is given.
    case startUpload(resume: ResumeData?)
    /// Stop the upload task that is running for this file, if any.
    case cancelUpload
    /// Delete the unfinished upload on the server (tus DELETE), so nothing is orphaned.
    case terminateRemoteUpload(ResumeData)
    /// Ask the service to turn the uploaded bytes into a file.
    case finalize(resume: ResumeData?)
    /// Deliver `writeBackElapsed` after this delay, which then asks for `finalize` (an upload that started
    /// at close and finished within the write-back delay).
    case scheduleFinalize(after: Duration)
    /// The file was renamed and its running upload carries on: the request now belongs to the new path
    /// (without this action a rename cancels the request).
    case followRename
    /// Ask the service for the processing status after this delay.
    case pollProcessing(after: Duration)
    /// Move the remote file to the service's trash.
    case deleteRemote(remoteId: String)
    /// Rename or move the remote file (update its descriptor).
    case renameRemote(remoteId: String, newPath: String)
    /// Deliver `retryTimerElapsed` at this time.
    case scheduleRetry(at: Date)
}
