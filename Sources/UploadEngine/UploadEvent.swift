import UploadStatus
/// What happened to a file: from the mirror filesystem, from the engine's timers and slots, or from the
/// upload target. Events that report on an upload carry the `generation` it was started for, so a result
/// of a superseded upload is ignored.
public enum UploadEvent: Sendable, Hashable {
    /// The file was opened for writing or written to.
    case written
    /// The last writer closed the file; `size` is its size in the cache.
    case closed(size: Int64)
    /// The write-back delay after the last close has passed.
    case writeBackElapsed
    /// A transfer slot is free for this file; `size` is the cache file's size now, when known.
    case slotGranted(size: Int64?)
    /// The server acknowledged `bytes` of the upload.
    case uploadProgress(generation: Int64, bytes: Int64)
    /// The target created the upload; the resume data must be journalled before bytes move.
    case uploadCreated(generation: Int64, ResumeData)
    /// All bytes are on the server.
    case uploadFinished(generation: Int64, UploadOutcome)
    /// The service turned the upload into a file.
    case finalizeFinished(generation: Int64, RemoteFile)
    /// The service's answer while processing.
    case processingResult(generation: Int64, ProcessingStatus)
    /// Uploading, finalizing or asking for the status failed.
    case uploadFailed(generation: Int64, UploadTargetError)
    /// The upload stopped because the service is unreachable: not a failed attempt. The file waits for a
    /// slot again and goes on from the server's offset once the service answers.
    case uploadInterrupted(generation: Int64)
    /// The user asked for a retry (`setfattr -n user.tusfs.retry`).
    case retryRequested
    /// The backoff of a retryable failure has passed.
    case retryTimerElapsed
    /// The file was unlinked.
    case removed
    /// The file (or a directory above it) was renamed; `to` is the new mount-relative path.
    case renamed(to: String)
    /// The daemon started again with this record in the journal.
    case restarted
}
