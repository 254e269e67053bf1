import UploadStatus

/// What the status surface asks: from the actor (`status(of:)`, `summary()`, `counts()`) or from any thread
/// without waiting for it (the `current…` methods, which read the `StatusReadModel`).
extension UploadEngine {
    /// The record of one file, with the current upload progress (as stored: without the outage overlay).
    public func status(of path: String) -> UploadRecord? { try? knownRecord(at: path) }

    /// Totals per state, bytes pending and the per-file list, for `status.json` (the settled files read from
    /// the journal).
    public func summary() -> UploadSummary {
        var all: [UploadRecord] = []
        var notSeen = Set(records.keys)
        try? journal.forEachRecord { record in
            all.append(records[record.path] ?? record)
            notSeen.remove(record.path)
        }
        for path in notSeen { if let record = records[path] { all.append(record) } }
        return UploadSummary(records: all, throughput: throughput(), service: health.status)
    }

    /// Whether the service answers: unreachable (with since when and why) while the engine holds its work.
    public nonisolated func currentService() -> ServiceStatus { readModel.service }

    /// Totals per state and bytes pending, without the per-file list.
    public func counts() -> UploadCounts {
        summary().counts
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

    /// `currentSummary()` as the JSON of `status.json`, readable from any thread; rebuilt only when a file
    /// changed or the copy is a second old (see `StatusReadModel.statusJSON()`).
    public nonisolated func currentStatusJSON() -> [UInt8] { readModel.statusJSON() }
}
