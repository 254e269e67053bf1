import Foundation

// What the service says of a file's processing without being asked (Media Manager's File Ready / File Failed
// webhooks): the mount takes it at once instead of finding it at its next status poll.
extension UploadEngine {
    /// The service reports that the file it stored as `remoteId` is processed: READY (with its URL) or FAILED.
    /// A file the engine is waiting on takes it at once. A report that comes before the upload's own answer
    /// (the service may process a small file before its answer has travelled back) is kept for a few minutes
    /// and taken when the file starts waiting. Reports of files the engine does not know are ignored.
    public func serviceReported(remoteId: String, _ status: ProcessingStatus) {
        if case .pending = status { return }
        if let record = records.values.first(where: { $0.state == .processing && $0.remoteId == remoteId }) {
            deliver(.processingResult(generation: record.generation, status), at: record.path)
            return
        }
        earlyReports.keep(status, for: remoteId, at: .now)
    }

    /// Applies a report that came before the file waited for it (see `serviceReported`).
    func applyEarlyReport(_ status: ProcessingStatus, at path: String) {
        guard let record = records[path], record.state == .processing else { return }
        deliver(.processingResult(generation: record.generation, status), at: path)
    }
}

/// Processing reports that came before the upload's answer, by remote id: at most `capacity`, each kept for
/// `lifetime` (a report of a file the engine never waits for must not stay for ever).
struct EarlyReports {
    static let capacity = 4096
    static let lifetime: Duration = .seconds(300)
    private var reports: [String: (status: ProcessingStatus, at: ContinuousClock.Instant)] = [:]

    mutating func keep(_ status: ProcessingStatus, for remoteId: String, at now: ContinuousClock.Instant) {
        if reports.count >= Self.capacity {
            reports = reports.filter { now - $0.value.at < Self.lifetime }
            if reports.count >= Self.capacity { reports.removeAll() }
        }
        reports[remoteId] = (status, now)
    }

    /// The report for `remoteId`, removed; nil when there is none or it is too old.
    mutating func take(_ remoteId: String, at now: ContinuousClock.Instant) -> ProcessingStatus? {
        guard let report = reports.removeValue(forKey: remoteId), now - report.at < Self.lifetime else { return nil }
        return report.status
    }
}
