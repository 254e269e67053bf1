import Foundation
import Synchronization
import Timekeeping
import UploadStatus

/// The read side of the engine: a copy of every record that the FUSE threads read without waiting for the
/// engine (xattrs, sidecars, `user.tusfs.summary`, `status.json`), the last `status.json` built, and the
/// bytes the service acknowledged lately (throughput).
///
/// The engine writes it after each committed transition; readers see the state of the last one.
final class StatusReadModel: Sendable {
    private let records = Mutex<[String: UploadRecord]>([:])
    /// Counts changes to `records`, so that `statusJSON()` can reuse a document no change made stale.
    private let generation = Atomic<UInt64>(0)
    /// The last `status.json` built: the generation it shows, when it was built, how long that took, its bytes.
    private let statusJSONCache = Mutex<(generation: UInt64, builtAt: ContinuousClock.Instant, took: Duration, bytes: [UInt8])?>(nil)
    /// (when, bytes) acknowledged by the server, for the throughput of the last `throughputWindow`.
    private let acknowledged = Mutex<[(at: ContinuousClock.Instant, bytes: Int64)]>([])
    private let throughputWindow: Duration = .seconds(5)
    /// Whether the service answers (`UploadEngine+ServiceHealth`).
    private let serviceStatus = Mutex<ServiceStatus>(.reachable)
    /// The journal's error for the files whose changes it could not record yet (`UploadEngine+HeldEvents`).
    private let journalErrors = Mutex<[String: String]>([:])

    // MARK: writing (the engine)

    /// Replaces every record (at start-up).
    func replaceAll(_ all: [String: UploadRecord]) {
        records.withLock { $0 = all }
        generation.add(1, ordering: .releasing)
    }

    /// Shows `record` at its path, and nothing any more at `removedPath` (a rename or a removal).
    func update(_ record: UploadRecord?, removing removedPath: String?) {
        records.withLock { records in
            if let removedPath { records[removedPath] = nil }
            if let record { records[record.path] = record }
        }
        generation.add(1, ordering: .releasing)
    }

    /// Shows whether the service answers; during an outage the files waiting for it show it as their error.
    func setService(_ status: ServiceStatus) {
        serviceStatus.withLock { $0 = status }
        generation.add(1, ordering: .releasing)
    }

    /// Shows `message` as the error of the file at `path` (nil: no more), whose change the journal could not
    /// record yet.
    func setJournalError(_ message: String?, at path: String) {
        journalErrors.withLock { $0[path] = message }
        generation.add(1, ordering: .releasing)
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

    /// The record of one file, as the status surface shows it (``UploadRecord/showing(_:)``); a file whose
    /// change the journal could not record yet shows that error (as `local` when it has no record yet).
    func record(at path: String) -> UploadRecord? {
        let record = records.withLock { $0[path] }
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

    /// The totals of the files at or below `path` (`""`: the whole mount): one pass over the records, under
    /// the lock, nothing allocated per file.
    func subtreeSummary(of path: String) -> SubtreeSummary {
        records.withLock { records in
            var summary = SubtreeSummary()
            for (recordPath, record) in records where SubtreeSummary.path(recordPath, isIn: path) { summary.add(record) }
            summary.service = service
            return summary
        }
    }

    /// Totals, bytes pending and every record ordered by path.
    func summary() -> UploadSummary {
        let journal = journalErrors.withLock { $0 }
        var (all, unknown) = records.withLock { records in
            (Array(records.values), journal.keys.filter { records[$0] == nil })
        }
        if !journal.isEmpty {
            // Files whose change the journal could not record yet show its error (as `local` when new).
            all = all.map { record in
                guard let error = journal[record.path] else { return record }
                var shown = record
                shown.error = error
                return shown
            }
            for path in unknown {
                var shown = UploadRecord(path: path, state: .local, updatedAt: Date(), generation: 0)
                shown.error = journal[path]
                all.append(shown)
            }
        }
        return UploadSummary(records: all, throughput: throughput(), service: service)
    }

    /// `summary()` as the JSON of `status.json`. A reader of the file looks it up, stats and opens it, each
    /// asking for the document: it is built again only after a file changed state or progressed, or when the
    /// copy is older than a second (the throughput changes with time alone). And never more often than every
    /// five times it takes to build: on a mount with hundreds of thousands of files, readers polling in a loop
    /// then cost the daemon a sixth of a core at most, and get a document that many milliseconds old.
    func statusJSON() -> [UInt8] {
        let generation = generation.load(ordering: .acquiring)
        let now = ContinuousClock.now
        if let cached = statusJSONCache.withLock({ $0 }) {
            let age = now - cached.builtAt
            if (cached.generation == generation && age < .seconds(1)) || age < cached.took * 5 { return cached.bytes }
        }
        let bytes = summary().statusJSONBytes()
        let took = ContinuousClock.now - now
        statusJSONCache.withLock { $0 = (generation, now, took, bytes) }
        return bytes
    }
}
