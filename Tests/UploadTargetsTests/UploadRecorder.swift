import Synchronization
import UploadEngine
import UploadStatus

/// Collects what a target reports (resume data, progress) from any task.
final class UploadRecorder: Sendable {
    private let state = Mutex<(resume: [ResumeData], progress: [Int64])>(([], []))
    /// Called on every progress report (e.g. to cancel the upload at some point).
    let onProgress: @Sendable (Int64) -> Void

    init(onProgress: @escaping @Sendable (Int64) -> Void = { _ in }) {
        self.onProgress = onProgress
    }

    var resumeData: [ResumeData] { state.withLock { $0.resume } }
    var progress: [Int64] { state.withLock { $0.progress } }

    var onResumeData: @Sendable (ResumeData) async -> Void {
        { data in self.state.withLock { $0.resume.append(data) } }
    }

    var progressHandler: @Sendable (Int64) -> Void {
        { bytes in
            self.state.withLock { $0.progress.append(bytes) }
            self.onProgress(bytes)
        }
    }
}

/// A task handle settable after the task started, so a progress handler can cancel its own upload.
final class CancelHandle: Sendable {
    private let task = Mutex<Task<UploadOutcome, any Error>?>(nil)
    private let requested = Mutex(false)

    func set(_ task: Task<UploadOutcome, any Error>) {
        self.task.withLock { $0 = task }
        if requested.withLock({ $0 }) { task.cancel() }
    }

    func cancel() {
        requested.withLock { $0 = true }
        task.withLock { $0?.cancel() }
    }
}
