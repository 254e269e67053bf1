import Foundation
import GRDB
import Synchronization
import UploadStatus

/// An error of the journal: the database could not be opened, read or written.
public struct UploadJournalError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ error: any Error) { description = "upload journal: \(error)" }
    init(message: String) { description = "upload journal: \(message)" }
}

/// The durable upload journal, `CACHE/journal.sqlite`: one row per file plus an outbox of remote changes.
///
/// Times are stored as seconds since 2001-01-01 UTC (Foundation's reference date), which round-trips a
/// `Date` exactly. SQLite in WAL mode. Every method is one transaction, committed when it returns, so the engine commits a
/// state change before it carries out the actions that follow from it. `synchronous=NORMAL` survives a
/// killed process (kill -9 of the daemon); pass `durableAgainstPowerLoss: true` for `FULL`.
///
/// A pool of connections: one writer (the engine), and readers that never wait for it (the status surface
/// on FUSE threads, the start-up count from a ``Snapshot``). SQLite checkpoints the write-ahead log into the
/// database every 1,000 pages, and the log file is cut back to ``walSizeLimit`` after each checkpoint, so
/// neither file grows with time, only with the number of files recorded.
public final class UploadJournal: Sendable {
    private let database: DatabasePool
    /// What the write-ahead log file is cut back to after a checkpoint.
    static let walSizeLimit = 4 << 20
    /// While set, every write fails with this message, as on a full disk: for tests of what the engine
    /// does when the journal cannot be written.
    let simulatedWriteFailure = Mutex<String?>(nil)
    /// The database file.
    public let path: String
    /// The write transaction a burst of changes runs in (``inOneTransaction(_:)``), with the thread that runs
    /// it: that thread's reads and writes go to it until it ends; every other thread reads as before.
    private let openTransaction = Mutex<OpenTransaction?>(nil)
    private struct OpenTransaction: @unchecked Sendable {
        let database: Database
        let thread: pthread_t
    }

    /// Opens (creating and migrating when needed) the journal at `path`.
    public init(path: String, durableAgainstPowerLoss: Bool = false) throws(UploadJournalError) {
        self.path = path
        var configuration = Configuration()
        configuration.label = "UploadJournal"
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durableAgainstPowerLoss ? "FULL" : "NORMAL")")
            _ = try Int.fetchOne(db, sql: "PRAGMA journal_size_limit = \(Self.walSizeLimit)")
        }
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw UploadJournalError(error)
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: uploads and remote operations") { db in
            try db.create(table: "upload") { t in
                t.primaryKey("path", .text)
                t.column("state", .text).notNull().indexed()
                t.column("size", .integer).notNull()
                t.column("uploadedBytes", .integer).notNull()
                t.column("remoteId", .text)
                t.column("url", .text)
                t.column("error", .text)
                t.column("attempts", .integer).notNull()
                t.column("updatedAt", .double).notNull()
                t.column("generation", .integer).notNull()
                t.column("tusUploadURL", .text)
                t.column("uploadToken", .text)
                t.column("plainUploadURL", .text)
                t.column("nextAttemptAt", .double)
                t.column("lastCloseAt", .double)
                t.column("processingPolls", .integer).notNull().defaults(to: 0)
            }
            try db.create(table: "remoteOperation") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("kind", .text).notNull()
                t.column("remoteId", .text)
                t.column("newPath", .text)
                t.column("tusUploadURL", .text)
                t.column("uploadToken", .text)
                t.column("plainUploadURL", .text)
            }
        }
        migrator.registerMigration("v2: upload without rowid, no state index") { db in
            // A commit rewrites one page instead of three (table, path index, state index): every state change
            // of every file is a commit. Nothing queries by state.
            try db.execute(
                sql: """
                    CREATE TABLE upload2 (
                      path TEXT NOT NULL PRIMARY KEY, state TEXT NOT NULL, size INTEGER NOT NULL,
                      uploadedBytes INTEGER NOT NULL, remoteId TEXT, url TEXT, error TEXT, attempts INTEGER NOT NULL,
                      updatedAt DOUBLE NOT NULL, generation INTEGER NOT NULL, tusUploadURL TEXT, uploadToken TEXT,
                      plainUploadURL TEXT, nextAttemptAt DOUBLE, lastCloseAt DOUBLE,
                      processingPolls INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    INSERT INTO upload2 SELECT path, state, size, uploadedBytes, remoteId, url, error, attempts, updatedAt,
                      generation, tusUploadURL, uploadToken, plainUploadURL, nextAttemptAt, lastCloseAt, processingPolls
                      FROM upload;
                    DROP TABLE upload;
                    ALTER TABLE upload2 RENAME TO upload;
                    """)
        }
        migrator.registerMigration("v3: resume data as the target's own values") { db in
            // The engine no longer knows what the target keeps to resume an upload: one JSON column instead
            // of three named after the Media Manager's fields (their values move into it under those names).
            try db.execute(
                sql: """
                    CREATE TABLE upload3 (
                      path TEXT NOT NULL PRIMARY KEY, state TEXT NOT NULL, size INTEGER NOT NULL,
                      uploadedBytes INTEGER NOT NULL, remoteId TEXT, url TEXT, error TEXT, attempts INTEGER NOT NULL,
                      updatedAt DOUBLE NOT NULL, generation INTEGER NOT NULL, resume TEXT, nextAttemptAt DOUBLE,
                      lastCloseAt DOUBLE, processingPolls INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    INSERT INTO upload3 SELECT path, state, size, uploadedBytes, remoteId, url, error, attempts, updatedAt,
                      generation, NULL, nextAttemptAt, lastCloseAt, processingPolls FROM upload;
                    CREATE TABLE remoteOperation3 (
                      id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, remoteId TEXT, newPath TEXT, resume TEXT
                    );
                    INSERT INTO remoteOperation3 (id, kind, remoteId, newPath) SELECT id, kind, remoteId, newPath FROM remoteOperation;
                    """)
            for table in ["upload", "remoteOperation"] {
                let key = table == "upload" ? "path" : "id"
                let rows = try Row.fetchAll(
                    db, sql: "SELECT \(key) AS key, tusUploadURL, uploadToken, plainUploadURL FROM \(table) WHERE COALESCE(tusUploadURL, uploadToken, plainUploadURL) IS NOT NULL")
                for row in rows {
                    let resume = ResumeData(["tusUploadURL": row["tusUploadURL"], "uploadToken": row["uploadToken"], "plainUploadURL": row["plainUploadURL"]])
                    try db.execute(sql: "UPDATE \(table)3 SET resume = ? WHERE \(key) = ?", arguments: [resume.json, row["key"]])
                }
            }
            try db.execute(
                sql: """
                    DROP TABLE upload;
                    ALTER TABLE upload3 RENAME TO upload;
                    DROP TABLE remoteOperation;
                    ALTER TABLE remoteOperation3 RENAME TO remoteOperation;
                    """)
        }
        return migrator
    }

    // MARK: records

    /// The query of one file's record by path (prepared once per connection, see `cachedStatement`).
    private static let recordAtPath = "SELECT * FROM upload WHERE path = ?"

    /// The record of the file at `path`, if the journal has one.
    public func record(for path: String) throws(UploadJournalError) -> UploadRecord? {
        try readOneStatement { db in
            try Row.fetchOne(db.cachedStatement(sql: Self.recordAtPath), arguments: [path]).map(Self.record(from:))
        }
    }

    /// The records of those of `paths` the journal has (in no particular order), read in one transaction: how
    /// the engine looks up every file of a burst of events at once instead of one read each. One prepared
    /// statement run per path (a statement with a list of paths would be compiled again for every burst).
    public func records(for paths: some Collection<String>) throws(UploadJournalError) -> [UploadRecord] {
        guard !paths.isEmpty else { return [] }
        return try read { db in
            let statement = try db.cachedStatement(sql: Self.recordAtPath)
            var found: [UploadRecord] = []
            for path in Set(paths) {  // each record once, however often its path is named
                if let row = try Row.fetchOne(statement, arguments: [path]) { found.append(Self.record(from: row)) }
            }
            return found
        }
    }

    /// Inserts or replaces the record (keyed by its path).
    public func save(_ record: UploadRecord) throws(UploadJournalError) {
        try commit(save: record)
    }

    /// Deletes the record of `path` (nothing happens when there is none).
    public func remove(_ path: String) throws(UploadJournalError) {
        try commit(remove: path)
    }

    /// Moves the record of `from` to `to`, and every record under the directory `from/` to the same place
    /// under `to/`. Records already at the destination are replaced.
    public func rename(from: String, to: String) throws(UploadJournalError) {
        try write { db in
            let under = Self.descendants(of: from)
            let target = Self.descendants(of: to)
            try db.execute(sql: "DELETE FROM upload WHERE path = ? OR (path >= ? AND path < ?)", arguments: [to, target.lower, target.upper])
            try db.execute(
                sql: """
                    UPDATE upload SET path = ? || substr(path, ?)
                    WHERE path = ? OR (path >= ? AND path < ?)
                    """,
                arguments: [to, from.unicodeScalars.count + 1, from, under.lower, under.upper])  // substr counts characters
        }
    }

    /// Every record, ordered by path.
    public func allRecords() throws(UploadJournalError) -> [UploadRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM upload ORDER BY path").map(Self.record(from:)) }
    }

    /// The records of files that have not settled: every state but `ready`, and `failed` only with a retry
    /// scheduled. What the engine keeps in memory; the settled rest stays here.
    public func unsettledRecords() throws(UploadJournalError) -> [UploadRecord] {
        try read(Self.fetchUnsettled)
    }

    static func fetchUnsettled(_ db: Database) throws -> [UploadRecord] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM upload WHERE state != 'ready' AND (state != 'failed' OR nextAttemptAt IS NOT NULL)"
        ).map(Self.record(from:))
    }

    /// The paths of the records under the directory `path` (not `path` itself).
    public func paths(under path: String) throws(UploadJournalError) -> [String] {
        let under = Self.descendants(of: path)
        return try read { db in
            try String.fetchAll(db, sql: "SELECT path FROM upload WHERE path >= ? AND path < ?", arguments: [under.lower, under.upper])
        }
    }

    /// Calls `body` with every record, ordered by path (SQLite's byte order), one at a time: what a pass over
    /// a large journal costs in memory is one record.
    public func forEachRecord(_ body: (UploadRecord) throws -> Void) throws(UploadJournalError) {
        try read { db in try Self.forEach(db, body) }
    }

    static func forEach(_ db: Database, _ body: (UploadRecord) throws -> Void) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM upload ORDER BY path")
        while let row = try rows.next() { try body(Self.record(from: row)) }
    }

    /// Up to `limit` records of the files under the directory `subtree` (`""`: the whole mount) whose paths
    /// come after `after` in byte order (nil: from the first), ordered by path: one page of a listing that is
    /// read a page at a time, each page as it is when read.
    public func records(under subtree: String, after: String?, limit: Int) throws(UploadJournalError) -> [UploadRecord] {
        try read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if !subtree.isEmpty {
                let under = Self.descendants(of: subtree)
                conditions.append("path >= ? AND path < ?")
                arguments += [under.lower, under.upper]
            }
            if let after {
                conditions.append("path > ?")
                arguments += [after]
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [limit]
            return try Row.fetchAll(db, sql: "SELECT * FROM upload \(filter) ORDER BY path LIMIT ?", arguments: arguments)
                .map(Self.record(from:))
        }
    }

    /// The records in `state`, ordered by path.
    public func records(in state: UploadState) throws(UploadJournalError) -> [UploadRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM upload WHERE state = ? ORDER BY path", arguments: [state.rawValue]).map(Self.record(from:))
        }
    }

    /// Files per state and bytes still to upload.
    public func counts() throws(UploadJournalError) -> UploadCounts {
        try read { db in
            var files: [UploadState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM upload GROUP BY state") {
                if let state = UploadState(rawValue: row["state"]) { files[state] = row["n"] }
            }
            let pending = try Int64.fetchOne(
                db,
                sql: "SELECT COALESCE(SUM(MAX(size - uploadedBytes, 0)), 0) FROM upload WHERE state IN ('local','pending','uploading','failed')"
            ) ?? 0
            return UploadCounts(files: files, bytesPending: pending)
        }
    }

    /// The journal as it is now, to read at leisure while the engine goes on writing: what a start-up pass
    /// reads, so that its counts plus the changes applied after it was taken are exact.
    public func snapshot() throws(UploadJournalError) -> Snapshot {
        do { return Snapshot(try database.makeSnapshot()) } catch { throw UploadJournalError(error) }
    }

    /// An unchanging view of the journal (a read transaction kept open: take one for a pass, then drop it, so
    /// that checkpoints can complete).
    public final class Snapshot: Sendable {
        private let database: DatabaseSnapshot

        init(_ database: DatabaseSnapshot) { self.database = database }

        /// The records of the files that had not settled (``UploadJournal/unsettledRecords()``).
        public func unsettledRecords() throws(UploadJournalError) -> [UploadRecord] {
            do { return try database.read(UploadJournal.fetchUnsettled) } catch { throw UploadJournalError(error) }
        }

        /// Calls `body` with every record, ordered by path, one at a time.
        public func forEachRecord(_ body: (UploadRecord) throws -> Void) throws(UploadJournalError) {
            do { try database.read { db in try UploadJournal.forEach(db, body) } } catch { throw UploadJournalError(error) }
        }
    }

    // MARK: outbox

    /// Saves and removes records and queues remote operations, all in one transaction.
    @discardableResult
    public func commit(save record: UploadRecord? = nil, remove removedPath: String? = nil, renamedFrom oldPath: String? = nil, operations: [RemoteOperation] = []) throws(UploadJournalError) -> [PendingRemoteOperation] {
        try write { db in
            // Cached statements: these run several times per file, compiling them each time cost more than the writes.
            if let removedPath { try db.cachedStatement(sql: "DELETE FROM upload WHERE path = ?").execute(arguments: [removedPath]) }
            if let oldPath { try db.cachedStatement(sql: "DELETE FROM upload WHERE path = ?").execute(arguments: [oldPath]) }
            if let record { try Self.insert(record, db) }
            return try operations.map { operation in
                try Self.insert(operation, db)
                return PendingRemoteOperation(id: db.lastInsertedRowID, operation: operation)
            }
        }
    }

    /// Remote operations that were queued and not yet confirmed, oldest first.
    public func pendingOperations() throws(UploadJournalError) -> [PendingRemoteOperation] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM remoteOperation ORDER BY id").compactMap { row in
                let operation: RemoteOperation
                switch row["kind"] as String {
                case "terminate": operation = .terminate(Self.resume(from: row) ?? ResumeData())
                case "delete": operation = .delete(remoteId: row["remoteId"])
                case "rename": operation = .rename(remoteId: row["remoteId"], newPath: row["newPath"])
                default: return nil
                }
                return PendingRemoteOperation(id: row["id"], operation: operation)
            }
        }
    }

    /// Forgets a remote operation the service has done (or that can never succeed).
    public func completeOperation(_ id: Int64) throws(UploadJournalError) {
        try write { db in try db.cachedStatement(sql: "DELETE FROM remoteOperation WHERE id = ?").execute(arguments: [id]) }
    }

    // MARK: one transaction for many changes

    /// Runs `body` in one write transaction: every read and write of the journal that `body` makes (on this
    /// thread) is part of it, and it is committed when `body` returns. When `body` throws, or the commit
    /// fails, nothing of it is recorded and the error is thrown. The engine applies a burst of file events
    /// so: one commit for many files instead of one or two each.
    public func inOneTransaction<T>(_ body: () throws -> T) throws(UploadJournalError) -> T {
        if let message = simulatedWriteFailure.withLock({ $0 }) { throw UploadJournalError(message: message) }
        do {
            return try database.write { db in
                openTransaction.withLock { $0 = OpenTransaction(database: db, thread: pthread_self()) }
                defer { openTransaction.withLock { $0 = nil } }
                return try body()
            }
        } catch let error as UploadJournalError {
            throw error
        } catch {
            throw UploadJournalError(error)
        }
    }

    /// The transaction of ``inOneTransaction(_:)`` when this thread runs one.
    private var transactionOfThisThread: Database? {
        openTransaction.withLock { open in
            guard let open, pthread_equal(open.thread, pthread_self()) != 0 else { return nil }
            return open.database
        }
    }

    // MARK: rows

    private func read<T>(_ body: (Database) throws -> T) throws(UploadJournalError) -> T {
        do {
            if let db = transactionOfThisThread { return try body(db) }
            return try database.read(body)
        } catch {
            throw UploadJournalError(error)
        }
    }

    /// One statement's read, without the transaction `read` opens around it (a single statement sees one state
    /// of the journal anyway): the engine's look-ups by path run for nearly every file event.
    private func readOneStatement<T>(_ body: (Database) throws -> T) throws(UploadJournalError) -> T {
        do {
            if let db = transactionOfThisThread { return try body(db) }
            return try database.unsafeRead(body)
        } catch {
            throw UploadJournalError(error)
        }
    }

    private func write<T>(_ body: (Database) throws -> T) throws(UploadJournalError) -> T {
        if let message = simulatedWriteFailure.withLock({ $0 }) { throw UploadJournalError(message: message) }
        do {
            if let db = transactionOfThisThread { return try body(db) }
            return try database.write(body)
        } catch {
            throw UploadJournalError(error)
        }
    }

    /// The half-open range of paths strictly under the directory `path` (`path/` … `path0`).
    private static func descendants(of path: String) -> (lower: String, upper: String) {
        (path + "/", path + "0")  // '0' is the character after '/'
    }

    private static func insert(_ record: UploadRecord, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO upload (path, state, size, uploadedBytes, remoteId, url, error, attempts, updatedAt,
                  generation, resume, nextAttemptAt, lastCloseAt, processingPolls)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                record.path, record.state.rawValue, record.size, record.uploadedBytes, record.remoteId, record.url,
                record.error, record.attempts, record.updatedAt.timeIntervalSinceReferenceDate, record.generation,
                record.resume?.json, record.nextAttemptAt?.timeIntervalSinceReferenceDate,
                record.lastCloseAt?.timeIntervalSinceReferenceDate, record.processingPolls,
            ])
    }

    private static func insert(_ operation: RemoteOperation, _ db: Database) throws {
        var kind = "", remoteId: String?, newPath: String?, resume: ResumeData?
        switch operation {
        case .terminate(let data): kind = "terminate"; resume = data
        case .delete(let id): kind = "delete"; remoteId = id
        case .rename(let id, let path): kind = "rename"; remoteId = id; newPath = path
        }
        try db.cachedStatement(
            sql: "INSERT INTO remoteOperation (kind, remoteId, newPath, resume) VALUES (?, ?, ?, ?)"
        ).execute(arguments: [kind, remoteId, newPath, resume?.json])
    }

    private static func record(from row: Row) -> UploadRecord {
        UploadRecord(
            path: row["path"], state: UploadState(rawValue: row["state"]) ?? .pending, size: row["size"],
            uploadedBytes: row["uploadedBytes"], remoteId: row["remoteId"], url: row["url"], error: row["error"],
            attempts: row["attempts"], updatedAt: Date(timeIntervalSinceReferenceDate: row["updatedAt"]), generation: row["generation"],
            resume: resume(from: row),
            nextAttemptAt: (row["nextAttemptAt"] as Double?).map(Date.init(timeIntervalSinceReferenceDate:)),
            lastCloseAt: (row["lastCloseAt"] as Double?).map(Date.init(timeIntervalSinceReferenceDate:)),
            processingPolls: row["processingPolls"])
    }

    /// The resume data of a row, nil when it has none.
    private static func resume(from row: Row) -> ResumeData? {
        (row["resume"] as String?).flatMap(ResumeData.init(json:))
    }
}
