import Foundation
import Synchronization
import Timekeeping
import UploadStatus

/// The read side of the engine: what the FUSE threads read without waiting for the engine (xattrs, sidecars,
/// `user.tusfs.summary`, `status.json`), the last `status.json` built, and the bytes the service acknowledged
/// lately (throughput).
///
/// It holds a copy of the records of files that have not settled, the most recently settled ones
/// (``recentLimit``), and the totals of every directory (``DirectoryTotals``); the record of an older settled
/// file is read from the journal when asked for. So its memory follows the files in flight and the
/// directories, not every file ever uploaded. The engine writes it after each committed transition; readers
/// see the state of the last one.
final class StatusReadModel: Sendable {
    private struct Records {
        /// Files that have not settled, by path.
        var active: [String: UploadRecord] = [:]
        /// Files settled lately, by path, and the order they settled in (the oldest is forgotten first).
        var recent: [String: UploadRecord] = [:]
        var recentOrder: [String] = []
        var recentOrderStart = 0
        var totals = DirectoryTotals()

        mutating func forget(_ path: String) {
            active[path] = nil
            recent[path] = nil  // its entry in `recentOrder` is skipped when it comes up
        }

        mutating func show(_ record: UploadRecord, keepingRecent limit: Int) {
            if record.isSettled {
                active[record.path] = nil
                recent[record.path] = record
                recentOrder.append(record.path)
                // A cache: forgetting an entry that settled again later costs only a journal read.
                while recent.count > limit, recentOrderStart < recentOrder.count {
                    recent[recentOrder[recentOrderStart]] = nil
                    recentOrderStart += 1
                }
                if recentOrderStart > 4096 && recentOrderStart * 2 > recentOrder.count {
                    recentOrder.removeFirst(recentOrderStart)
                    recentOrderStart = 0
                }
            } else {
                recent[record.path] = nil
                active[record.path] = record
            }
        }
    }

    /// Settled records kept beside the unsettled ones; older ones are read from the journal.
    static let recentLimit = 2048

    private let journal: UploadJournal?
    private let records = Mutex(Records())
    /// What the start-up pass still does: count the journal's totals, check the cache.
    private let reconciling = Mutex((countingTotals: false, checkingCache: false))
    /// (when, bytes) acknowledged by the server, for the throughput of the last `throughputWindow`.
    private let acknowledged = Mutex<[(at: ContinuousClock.Instant, bytes: Int64)]>([])
    private let throughputWindow: Duration = .seconds(5)
    /// Whether the service answers (`UploadEngine+ServiceHealth`).
    private let serviceStatus = Mutex<ServiceStatus>(.reachable)
    /// The journal's error for the files whose changes it could not record yet (`UploadEngine+HeldEvents`).
    private let journalErrors = Mutex<[String: String]>([:])

    /// A read model that reads settled records it no longer holds from `journal`.
    init(journal: UploadJournal?) {
        self.journal = journal
    }

    // MARK: writing (the engine)

    /// Starts over with the unsettled records `active` (at start-up), the totals not yet counted: the changes
    /// applied from now on are counted as they come, and ``addCounted(_:)`` adds the journal's totals as they
    /// were before the first of them.
    func startOver(active: [String: UploadRecord]) {
        records.withLock { records in
            records = Records()
            records.active = active
        }
        reconciling.withLock { $0 = (countingTotals: true, checkingCache: false) }
    }

    /// Adds the totals counted from the journal snapshot taken at start-up: the totals are whole from now on.
    func addCounted(_ counted: DirectoryTotals) {
        records.withLock { $0.totals.merge(counted) }
        reconciling.withLock { $0.countingTotals = false }
    }

    /// Shows whether the cache is being checked for changes made while no daemon ran.
    func setCheckingCache(_ checking: Bool) {
        reconciling.withLock { $0.checkingCache = checking }
    }

    /// True until the start-up count and the cache check are done: the totals may be short until then.
    var isReconciling: Bool { reconciling.withLock { $0.countingTotals || $0.checkingCache } }

    /// Shows `next` instead of `previous` (nil: a new file, or a file gone), and nothing any more at
    /// `removedPath` (a rename or a removal).
    func update(from previous: UploadRecord?, to next: UploadRecord?, removing removedPath: String?) {
        records.withLock { records in
            if let previous { records.totals.remove(previous) }
            if let next { records.totals.add(next) }
            if let removedPath { records.forget(removedPath) }
            if let next { records.show(next, keepingRecent: Self.recentLimit) }
        }
    }

    /// Shows whether the service answers; during an outage the files waiting for it show it as their error.
    func setService(_ status: ServiceStatus) {
        serviceStatus.withLock { $0 = status }
    }

    /// Shows `message` as the error of the file at `path` (nil: no more), whose change the journal could not
    /// record yet.
    func setJournalError(_ message: String?, at path: String) {
        journalErrors.withLock { $0[path] = message }
    }

    /// Counts `bytes` newly acknowledged by the server into the throughput.
    func recordAcknowledged(_ bytes: Int64) {
        guard bytes > 0 else { return }
        let now = ContinuousClock.now
        acknowledged.withLock { acknowledged in
            if let last = acknowledged.last, now - last.at < .milliseconds(100) {
                acknowledged[acknowledged.count - 1].bytes += bytes
            } else {
                acknowledged.append((now, bytes))
                if acknowledged.count > 200 { acknowledged.removeFirst(acknowledged.count - 100) }
            }
        }
    }

    // MARK: reading (any thread)

    /// Whether the service answers.
    var service: ServiceStatus { serviceStatus.withLock { $0 } }

    /// The record of one file as it is now (without the status overlays): in memory, or for a file settled a
    /// while ago, in the journal.
    func current(at path: String) -> UploadRecord? {
        if let held = records.withLock({ $0.active[path] ?? $0.recent[path] }) { return held }
        // Not in memory: settled long ago (or unknown). The journal has it as committed.
        return (try? journal?.record(for: path)) ?? nil
    }

    /// The record of one file, as the status surface shows it (``UploadRecord/showing(_:)``); a file whose
    /// change the journal could not record yet shows that error (as `local` when it has no record yet).
    func record(at path: String) -> UploadRecord? {
        let record = current(at: path)
        guard let journalError = journalErrors.withLock({ $0[path] }) else { return record?.showing(service) }
        var shown = record ?? UploadRecord(path: path, state: .local, updatedAt: Date(), generation: 0)
        shown.error = journalError
        return shown
    }

    /// Bytes per second the server acknowledged over the last 5 seconds.
    func throughput() -> Double {
        let now = ContinuousClock.now
        let window = throughputWindow
        return acknowledged.withLock { acknowledged in
            acknowledged.removeAll { now - $0.at > window }
            guard let first = acknowledged.first else { return 0 }
            let span = max((now - first.at).seconds, 1)
            return Double(acknowledged.reduce(0) { $0 + $1.bytes }) / span
        }
    }

    /// The totals of the files at or below `path` (`""`: the whole mount): a directory's kept totals, or the
    /// one file at `path`; the same cost whatever the number of files.
    func subtreeSummary(of path: String) -> SubtreeSummary {
        var summary = records.withLock { $0.totals.summary(ofDirectory: path) } ?? SubtreeSummary()
        if summary.files == 0, let record = current(at: path) { summary.add(record) }
        summary.service = service
        summary.reconciling = isReconciling ? true : nil
        return summary
    }

    /// Totals, bytes pending and every record ordered by path.
    func summary() -> UploadSummary {
        var all = everyRecord()
        let errors = journalErrors.withLock { $0 }
        if !errors.isEmpty {
            // Files whose change the journal could not record yet show its error (as `local` when new).
            var unknown = Set(errors.keys)
            all = all.map { record in
                unknown.remove(record.path)
                guard let error = errors[record.path] else { return record }
                var shown = record
                shown.error = error
                return shown
            }
            for path in unknown {
                var shown = UploadRecord(path: path, state: .local, updatedAt: Date(), generation: 0)
                shown.error = errors[path]
                all.append(shown)
            }
        }
        return UploadSummary(records: all, throughput: throughput(), service: service)
    }

    /// Every record: the journal's, one at a time, with the copy in memory in its place where there is one
    /// (fresher: upload progress), and the files in memory the journal does not know yet (open for writing).
    private func everyRecord() -> [UploadRecord] {
        let (active, recent) = records.withLock { ($0.active, $0.recent) }
        var notSeen = Set(active.keys).union(recent.keys)
        var all: [UploadRecord] = []
        try? journal?.forEachRecord { record in
            all.append(active[record.path] ?? recent[record.path] ?? record)
            notSeen.remove(record.path)
        }
        for path in notSeen { if let record = active[path] ?? recent[path] { all.append(record) } }
        return all
    }

    /// `status.json` (`subtree` `""`) or the listing of the directory `subtree` (its sidecar), produced a page
    /// of the journal at a time as it is read (``StatusListing``).
    func document(under subtree: String) -> StreamedDocument {
        let summary = subtreeSummary(of: subtree)
        let held = records.withLock { records in
            (Array(records.active.values) + records.recent.values.filter { records.active[$0.path] == nil })
                .filter { SubtreeSummary.path($0.path, isIn: subtree) && $0.path != subtree }
        }
        let errors = journalErrors.withLock { $0 }
        var unknown = errors.keys.filter { path in
            SubtreeSummary.path(path, isIn: subtree) && path != subtree && !held.contains { $0.path == path }
        }.map { UploadRecord(path: $0, state: .local, updatedAt: Date(), generation: 0) }
        unknown = unknown.filter { (try? journal?.record(for: $0.path)) ?? nil == nil }
        let listing = StatusListing(
            subtree: subtree, journal: journal, held: held + unknown, summary: summary, throughput: throughput(),
            shown: { [weak self] record in self?.shown(record) ?? record })
        return StreamedDocument { listing.next() }
    }

    /// `record` as the status surface shows it: the outage overlay, the journal's error.
    private func shown(_ record: UploadRecord) -> UploadRecord {
        var shown = record.showing(service)
        if let journalError = journalErrors.withLock({ $0[record.path] }) { shown.error = journalError }
        return shown
    }
}
