import UploadStatus

/// What the status surface asks: from the actor (`status(of:)`, `summary()`, `counts()`) or from any thread
/// without waiting for it (the `current…` methods, which read the `StatusReadModel`).
extension UploadEngine {
    /// The record of one file, with the current upload progress (as stored: without the outage overlay).
    public func status(of path: String) -> UploadRecord? { try? knownRecord(at: path) }

    /// Totals per state, bytes pending and the per-file list (every file, the settled ones read from the
    /// journal): for tests and tools; the status surface streams its documents (`currentDocument(under:)`).
    public func summary() -> UploadSummary { readModel.summary() }

    /// Whether the service answers: unreachable (with since when and why) while the engine holds its work.
    public nonisolated func currentService() -> ServiceStatus { readModel.service }

    /// Totals per state and bytes pending, without the per-file list.
    public func counts() -> UploadCounts {
        let root = readModel.subtreeSummary(of: "")
        return UploadCounts(files: root.totals, bytesPending: root.bytes - root.bytes_uploaded)
    }

    /// Bytes per second the server acknowledged over the last 5 seconds; readable from any thread.
    public nonisolated func throughput() -> Double { readModel.throughput() }

    /// The record of one file, readable from any thread (FUSE worker threads) without waiting for the
    /// engine. Events posted but not yet applied are not reflected.
    public nonisolated func currentStatus(of path: String) -> UploadRecord? { readModel.record(at: path) }

    /// The totals of the files at or below the mount-relative `path` (`""`: the whole mount), readable from any
    /// thread.
    public nonisolated func currentSubtreeSummary(of path: String) -> SubtreeSummary { readModel.subtreeSummary(of: path) }

    /// `summary()` readable from any thread.
    public nonisolated func currentSummary() -> UploadSummary { readModel.summary() }

    /// `status.json` (`subtree` `""`) or the listing of the directory `subtree`, produced a page of the
    /// journal at a time as it is read; readable from any thread.
    public nonisolated func currentDocument(under subtree: String) -> StreamedDocument { readModel.document(under: subtree) }

    /// Whether the start-up count and cache check are still running (the totals may be short).
    public nonisolated var isReconciling: Bool { readModel.isReconciling }
}
