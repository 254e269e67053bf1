import Foundation
import Logging
import Synchronization

/// The upload engine: the thin driver around `UploadStateMachine`.
///
/// It takes file events from the mirror filesystem (mount-relative paths), commits every transition to the
/// `UploadJournal` before carrying out its actions, runs up to `parallelTransfers` uploads at once against an
/// `UploadTarget`, and feeds the results back as events. Files are read from `cacheRoot + "/" + path`.
///
/// Call `start()` once before the first file event: it loads the journal and resumes what a previous run
/// left (uploads continue from the server's offset).
public actor UploadEngine {
    private let journal: UploadJournal
    private let target: any UploadTarget
    private let cacheRoot: String
    private let configuration: UploadEngineConfiguration
    private let machine: UploadStateMachine
    private let logger: Logger
    private nonisolated let metrics = UploadMetrics()

    /// In-memory copy of the journal (plus upload progress, which is not journalled).
    private var records: [String: UploadRecord] = [:]
    /// The write-back, retry or poll timer of each file (at most one applies in any state).
    private var timers = FileTimers<@Sendable (isolated UploadEngine, String) throws -> Void>()
    /// The one task sleeping until the earliest timer is due, and when that is.
    private var timerDriver: (id: UInt64, wakeAt: ContinuousClock.Instant, task: Task<Void, Never>)?
    /// The upload, finalize or status request running for each file.
    private var active: [String: ActiveRequest] = [:]
    /// The path each running request belongs to now, by token: a rename can hand a request to the new path.
    private var requestPaths: [UInt64: String] = [:]
    private var queue: [String] = []
    private var queued: Set<String> = []
    private var runningTransfers = 0
    private var remoteOperations: [Int64: Task<Void, Never>] = [:]
    /// The last queued operation on each remote file or upload, which the next one on it waits for.
    private var lastOperation: [String: (id: Int64, task: Task<Void, Never>)] = [:]
    private var nextToken: UInt64 = 0
    private var stopped = false
    /// Set while shutting down gracefully: no new upload starts.
    private var draining = false

    /// A copy of `records` readable from any thread without waiting for the actor (FUSE's getxattr).
    private nonisolated let snapshot = Mutex<[String: UploadRecord]>([:])
    /// Counts changes to `snapshot`, so that `currentStatusJSON()` can reuse a document no change made stale.
    private nonisolated let snapshotGeneration = Atomic<UInt64>(0)
    /// The last `status.json` built: the snapshot generation it shows, when it was built, how long that took,
    /// its bytes.
    private nonisolated let statusJSONCache = Mutex<
        (generation: UInt64, builtAt: ContinuousClock.Instant, took: Duration, bytes: [UInt8])?
    >(nil)

    /// Events posted from the filesystem's threads, applied in order by one task.
    private nonisolated let postedEvents = Mutex<[FileEvent]>([])
    /// Wakes the event loop when the first event arrives in an empty `postedEvents`.
    private nonisolated let eventsArrived = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    private nonisolated let postedCount = Atomic<Int>(0)
    private var appliedCount = 0
    /// (when, bytes) acknowledged by the server, for the throughput of the last `throughputWindow`.
    private nonisolated let acknowledged = Mutex<[(at: ContinuousClock.Instant, bytes: Int64)]>([])
    private nonisolated let throughputWindow: Duration = .seconds(5)
    private var eventLoop: Task<Void, Never>?

    private struct ActiveRequest {
        var token: UInt64
        var task: Task<Void, Never>
        var progress: Int64 = 0
        /// False until the first progress report, which may be the server's offset of a resumed upload.
        var started = false
    }

    /// Creates an engine; nothing runs until `start()`.
    public init(
        journal: UploadJournal, target: any UploadTarget, cacheRoot: String,
        configuration: UploadEngineConfiguration = UploadEngineConfiguration(),
        logger: Logger = Logger(label: "tusfs.upload-engine")
    ) {
        self.journal = journal
        self.target = target
        self.cacheRoot = cacheRoot
        self.configuration = configuration
        self.machine = UploadStateMachine(
            writeBackDelay: configuration.writeBackDelay, retryPolicy: configuration.retryPolicy,
            processingPollPolicy: configuration.processingPollPolicy,
            earlyStartMinimumSize: configuration.startsUploadsAtClose ? target.namedAtFinalizeFromSize : nil)
        self.logger = logger
    }

    // MARK: life cycle

    /// Loads the journal and recovers: `uploading`/`finalizing` resume from the server's offset, `pending` and
    /// `local` upload again, `processing` is polled, scheduled retries are rescheduled, and remote deletes,
    /// renames and terminations that were queued but not confirmed are sent again.
    public func start() throws(UploadJournalError) {
        stopped = false
        draining = false
        for record in try journal.allRecords() { records[record.path] = record }
        snapshot.withLock { $0 = records }
        snapshotGeneration.add(1, ordering: .releasing)
        for path in records.keys.sorted() { try handle(.restarted, at: path) }
        for operation in try journal.pendingOperations() { run(operation) }
        if eventLoop == nil {
            let arrivals = eventsArrived.stream
            eventLoop = Task { [weak self] in
                for await _ in arrivals {
                    // A burst (cp -r, rsync: two events per file) gathers for a moment, then is applied in one
                    // turn of the actor: one wake-up for many events instead of one each, off the FUSE threads.
                    try? await Task.sleep(for: .milliseconds(2))
                    guard let self else { return }
                    let events = self.postedEvents.withLock { events in
                        defer { events.removeAll(keepingCapacity: true) }
                        return events
                    }
                    await self.apply(events)
                }
            }
        }
        logger.info("upload engine started", metadata: ["files": "\(records.count)"])
        pump()
    }

    /// Finds regular files in the cache that the journal does not know (written while the daemon was down)
    /// and uploaded files whose cache copy changed since (size differs, or modified after `updatedAt`), and
    /// queues them as if they had just been closed. Returns how many it queued. Call after `start()`.
    /// `isExcluded` skips paths that belong to the mirror itself, not to the user.
    @discardableResult
    public func reconcileWithCache(isExcluded: @Sendable (String) -> Bool = { _ in false }) throws(UploadJournalError) -> Int {
        guard let enumerator = FileManager.default.enumerator(atPath: cacheRoot) else { return 0 }
        var found: [(path: String, size: Int64, modified: Date)] = []
        while let path = enumerator.nextObject() as? String {
            guard let attributes = enumerator.fileAttributes, attributes[.type] as? FileAttributeType == .typeRegular,
                !isExcluded(path)
            else { continue }
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            found.append((path, size, attributes[.modificationDate] as? Date ?? .distantPast))
        }
        var queuedCount = 0
        for file in found.sorted(by: { $0.path < $1.path }) {
            if let record = records[file.path] {
                guard [.processing, .ready].contains(record.state),
                    record.size != file.size || file.modified > record.updatedAt
                else { continue }
                try handle(.written, at: file.path)
            }
            try fileClosed(file.path, size: file.size)
            queuedCount += 1
        }
        if queuedCount > 0 { logger.info("found files changed behind the journal", metadata: ["files": "\(queuedCount)"]) }
        return queuedCount
    }

    /// Stops the engine. With `waitForUploads`, first waits until no file is pending, uploading, finalizing
    /// or waiting for an automatic retry, and the remote operations are done. Otherwise, with `chunkGrace`,
    /// no new upload starts and each upload moving bytes gets up to that long for the server to acknowledge
    /// its current chunk (a whole PUT for small files), so the next start sends nothing twice. What is left
    /// stays in the journal for the next `start()`.
    public func shutdown(waitForUploads: Bool, chunkGrace: Duration = .zero) async {
        if waitForUploads {
            while hasWork { try? await Task.sleep(for: .milliseconds(20)) }
        }
        await flush()
        if chunkGrace > .zero { await waitForChunks(grace: chunkGrace) }
        stopped = true
        timerDriver?.task.cancel()
        timerDriver = nil
        for (_, request) in active { request.task.cancel() }
        for (_, task) in remoteOperations { task.cancel() }
        timers.removeAll()
        active = [:]
        requestPaths = [:]
        queue = []
        queued = []
        remoteOperations = [:]
        lastOperation = [:]
        logger.info("upload engine stopped")
    }

    /// Lets the chunks in flight land: waits until every upload that is moving bytes has reported new
    /// progress or ended, or `grace` has passed. Nothing new starts meanwhile.
    private func waitForChunks(grace: Duration) async {
        draining = true
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: grace)
        var waiting = active.filter { records[$0.key]?.state == .uploading }.mapValues { (token: $0.token, progress: $0.progress) }
        if !waiting.isEmpty { logger.info("waiting for chunks in flight", metadata: ["uploads": "\(waiting.count)"]) }
        while !waiting.isEmpty, clock.now < deadline {
            for (path, start) in waiting {
                guard let request = active[path], request.token == start.token, request.progress == start.progress else {
                    waiting[path] = nil  // ended, or its chunk was acknowledged
                    continue
                }
            }
            if !waiting.isEmpty { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }

    private var hasWork: Bool {
        !remoteOperations.isEmpty
            || records.values.contains { [.pending, .uploading, .finalizing].contains($0.state) || $0.nextAttemptAt != nil && $0.state == .failed }
    }

    // MARK: file events (from the mirror filesystem)

    /// Posts a file event without waiting: safe to call from any thread (the FUSE worker threads), and
    /// applied in the order posted. A daemon killed before an event is applied loses nothing: the next
    /// start's `reconcileWithCache()` finds the changed file. Journal errors are logged.
    public nonisolated func post(_ event: FileEvent) {
        postedCount.add(1, ordering: .sequentiallyConsistent)
        let first = postedEvents.withLock { events in
            events.append(event)
            return events.count == 1
        }
        if first { eventsArrived.continuation.yield() }
    }

    /// Waits until every event posted before this call has been applied (and committed to the journal).
    public func flush() async {
        let target = postedCount.load(ordering: .sequentiallyConsistent)
        while appliedCount < target && eventLoop != nil {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    private func apply(_ events: [FileEvent]) {
        for event in events { apply(event) }
    }

    private func apply(_ event: FileEvent) {
        defer { appliedCount += 1 }
        do {
            switch event {
            case .written(let path): try fileWritten(path)
            case .closed(let path, let size): try fileClosed(path, size: size)
            case .renamed(let from, let to): try fileRenamed(from: from, to: to)
            case .directoryRenamed(let from, let to): try directoryRenamed(from: from, to: to)
            case .removed(let path): try fileRemoved(path)
            case .retry(let path): try retry(path)
            }
        } catch {
            logger.error("cannot record \(event): \(error)")
        }
    }

    /// A file was opened for writing or written to. Sends it back to `local`; a running upload of an earlier
    /// version is cancelled and terminated on the server. Cheap when the file is already `local`.
    public func fileWritten(_ path: String) throws(UploadJournalError) {
        try handle(.written, at: path, createIfMissing: true)
    }

    /// The last writer closed the file; `size` is its size in the cache. The upload starts after the
    /// write-back delay unless the file is written, renamed or removed before.
    public func fileClosed(_ path: String, size: Int64) throws(UploadJournalError) {
        if records[path] == nil { try handle(.written, at: path, createIfMissing: true) }
        try handle(.closed(size: size), at: path)
    }

    /// The file was renamed. A record already at `to` is replaced (as if `to` were removed first). A file
    /// the journal did not know is uploaded under its new name, as if it had just been closed there.
    public func fileRenamed(from: String, to: String) throws(UploadJournalError) {
        guard from != to else { return }
        if records[to] != nil { try handle(.removed, at: to) }
        if records[from] != nil {
            try handle(.renamed(to: to), at: from)
        } else if let size = fileSize(to, regularOnly: true) {
            try fileClosed(to, size: size)
        }
    }

    /// A directory was renamed: every file under it is renamed the same way.
    public func directoryRenamed(from: String, to: String) throws(UploadJournalError) {
        let prefix = from + "/"
        for path in records.keys.sorted() where path.hasPrefix(prefix) {
            try fileRenamed(from: path, to: to + "/" + path.dropFirst(prefix.count))
        }
    }

    /// The file was unlinked: a pending or running upload is cancelled and terminated on the server, an
    /// uploaded file is moved to the service's trash.
    public func fileRemoved(_ path: String) throws(UploadJournalError) {
        try handle(.removed, at: path)
    }

    /// The user asked to retry a failed file (`setfattr -n user.tusfs.retry`). Does nothing in other states.
    public func retry(_ path: String) throws(UploadJournalError) {
        try handle(.retryRequested, at: path)
    }

    // MARK: status

    /// The record of one file, with the current upload progress.
    public func status(of path: String) -> UploadRecord? { records[path] }

    /// Totals per state, bytes pending and the per-file list, for `status.json`.
    public func summary() -> UploadSummary {
        UploadSummary(counts: counts(), files: records.values.sorted { $0.path < $1.path }, throughput: throughput())
    }

    /// Bytes per second the server acknowledged over the last 5 seconds; readable from any thread.
    public nonisolated func throughput() -> Double {
        let now = ContinuousClock.now
        let window = throughputWindow
        return acknowledged.withLock { acknowledged in
            acknowledged.removeAll { now - $0.at > window }
            guard let first = acknowledged.first else { return 0 }
            let span = max((now - first.at).seconds, 1)
            return Double(acknowledged.reduce(0) { $0 + $1.bytes }) / span
        }
    }

    /// The record of one file, readable from any thread (FUSE worker threads) without waiting for the
    /// engine. Events posted but not yet applied are not reflected.
    public nonisolated func currentStatus(of path: String) -> UploadRecord? {
        snapshot.withLock { $0[path] }
    }

    /// The totals of the files at or below the mount-relative `path` (`""`: the whole mount), readable from any
    /// thread: one pass over the records, under the lock the FUSE threads read them with, nothing allocated per file.
    public nonisolated func currentSubtreeSummary(of path: String) -> SubtreeSummary {
        snapshot.withLock { records in
            var summary = SubtreeSummary()
            for (recordPath, record) in records where SubtreeSummary.path(recordPath, isIn: path) { summary.add(record) }
            return summary
        }
    }

    /// `summary()` readable from any thread.
    public nonisolated func currentSummary() -> UploadSummary {
        let records = snapshot.withLock { Array($0.values) }
        var files: [UploadState: Int] = [:]
        var pending: Int64 = 0
        for record in records {
            files[record.state, default: 0] += 1
            switch record.state {
            case .local, .pending, .uploading, .failed: pending += max(record.size - record.uploadedBytes, 0)
            case .finalizing, .processing, .ready: break
            }
        }
        return UploadSummary(
            counts: UploadCounts(files: files, bytesPending: pending), files: records.sorted { $0.path < $1.path },
            throughput: throughput())
    }

    /// `currentSummary()` as the JSON of `status.json`, readable from any thread. A reader of the file looks it
    /// up, stats and opens it, each asking for the document: it is built again only after a file changed state
    /// or progressed, or when the copy is older than a second (the throughput changes with time alone). And
    /// never more often than every five times it takes to build: on a mount with hundreds of thousands of
    /// files, readers polling in a loop (`tusfs wait`) then cost the daemon a sixth of a core at most, and get
    /// a document that many milliseconds old.
    public nonisolated func currentStatusJSON() -> [UInt8] {
        let generation = snapshotGeneration.load(ordering: .acquiring)
        let now = ContinuousClock.now
        if let cached = statusJSONCache.withLock({ $0 }) {
            let age = now - cached.builtAt
            if (cached.generation == generation && age < .seconds(1)) || age < cached.took * 5 { return cached.bytes }
        }
        let bytes = currentSummary().statusJSONBytes()
        let took = ContinuousClock.now - now
        statusJSONCache.withLock { $0 = (generation, now, took, bytes) }
        return bytes
    }

    /// Totals per state and bytes pending, without the per-file list.
    public func counts() -> UploadCounts {
        var files: [UploadState: Int] = [:]
        var pending: Int64 = 0
        for record in records.values {
            files[record.state, default: 0] += 1
            switch record.state {
            case .local, .pending, .uploading, .failed: pending += max(record.size - record.uploadedBytes, 0)
            case .finalizing, .processing, .ready: break
            }
        }
        return UploadCounts(files: files, bytesPending: pending)
    }

    // MARK: transitions

    /// Applies `event` to the file at `path`: commits the result to the journal, then carries out the actions.
    private func handle(_ event: UploadEvent, at path: String, createIfMissing: Bool = false) throws(UploadJournalError) {
        guard !stopped else {
            // After shutdown the journal belongs to the next run; late results are left to its recovery.
            logger.debug("ignored after shutdown: \(event)", metadata: ["path": "\(path)"])
            return
        }
        let now = Date()
        let isNew = records[path] == nil
        guard let record = records[path] ?? (createIfMissing ? machine.newRecord(path: path, now: now) : nil) else { return }
        let (next, actions) = machine.transition(record, event, now: now)
        let operations = actions.compactMap(RemoteOperation.init)
        let forget = actions.contains(.forget)
        // A new file being written is not journalled until it is closed: after a crash, a cache file the journal
        // does not know is found and uploaded anyway (`reconcileWithCache`), so the record would add nothing.
        let persist = actions.contains(.persist) || (isNew && !forget && next.state != .local)

        // 1. Commit: the state change and the remote operations it requires, in one transaction.
        var queuedOperations: [PendingRemoteOperation] = []
        if forget {
            queuedOperations = try journal.commit(remove: path, operations: operations)
        } else if persist {
            queuedOperations = try journal.commit(save: next, renamedFrom: next.path != path ? path : nil, operations: operations)
        } else if !operations.isEmpty {
            queuedOperations = try journal.commit(operations: operations)
        }

        // 2. Update memory; timers and requests of the old state or old name are stale now.
        if persist || forget { cancelTimer(path) }
        if forget || next.path != path {
            records[path] = nil
            if actions.contains(.followRename) { moveRequest(from: path, to: next.path) } else { cancelRequest(path) }
            if queued.remove(path) != nil { queue.removeAll { $0 == path } }
        }
        if !forget { records[next.path] = next }
        snapshot.withLock { snapshot in
            if forget || next.path != path { snapshot[path] = nil }
            if !forget { snapshot[next.path] = next }
        }
        snapshotGeneration.add(1, ordering: .releasing)
        if event != .restarted || persist {
            logger.debug("\(event) → \(next.state)", metadata: ["path": "\(next.path)", "generation": "\(next.generation)"])
        }
        if !forget, next.state != record.state, next.state == .ready || next.state == .failed { logOutcome(next, now: now) }

        // 3. Act.
        for operation in queuedOperations { run(operation) }
        var wantsSlot = false
        for action in actions {
            switch action {
            case .persist, .forget, .terminateRemoteUpload, .deleteRemote, .renameRemote, .followRename:
                break  // done above
            case .cancelUpload:
                cancelRequest(path)
            case .scheduleWriteBack(let delay):
                schedule(next.path, after: delay) { engine, path in try engine.handle(.writeBackElapsed, at: path) }
                if event != .restarted { target.prepare(file: cacheRoot + "/" + next.path, remotePath: next.path) }
            case .scheduleRetry(let date):
                metrics.retries.increment()
                schedule(next.path, after: .seconds(max(date.timeIntervalSince(now), 0))) { engine, path in
                    try engine.handle(.retryTimerElapsed, at: path)
                }
            case .pollProcessing(let delay):
                schedule(next.path, after: delay) { engine, path in engine.pollProcessing(path) }
            case .enqueue:
                if queued.insert(next.path).inserted { queue.append(next.path) }
                wantsSlot = true
            case .startUpload(let resume):
                startUpload(next, resume: resume)
            case .finalize(let resume):
                finalize(next, resume: resume)
            case .scheduleFinalize(let delay):
                schedule(next.path, after: delay) { engine, path in try engine.handle(.writeBackElapsed, at: path) }
            }
        }
        if wantsSlot { pump() }
    }

    /// One log line per upload that ended: READY, or failed (with the error and whether it is retried).
    /// `seconds` counts from the file's last close, so it includes the write-back delay and any retries.
    private func logOutcome(_ record: UploadRecord, now: Date) {
        var metadata: Logger.Metadata = [
            "path": "\(record.path)", "size": "\(record.size)", "attempts": "\(record.attempts + 1)",
            "seconds": "\(String(format: "%.3f", now.timeIntervalSince(record.lastCloseAt ?? record.updatedAt)))",
        ]
        if record.state == .ready {
            metrics.uploadsReady.increment()
            if let remoteId = record.remoteId { metadata["remote_id"] = "\(remoteId)" }
            logger.info("upload ready", metadata: metadata)
        } else {
            metrics.uploadsFailed.increment()
            metadata["error"] = "\(record.error ?? "")"
            metadata["retry_at"] = "\(record.nextAttemptAt?.ISO8601Format() ?? "none")"
            metadata["attempts"] = "\(record.attempts)"
            logger.warning("upload failed", metadata: metadata)
        }
    }

    /// Handles an event from a timer or a finished request, logging a journal failure (nobody to throw to).
    private func deliver(_ event: UploadEvent, at path: String) {
        do { try handle(event, at: path) } catch {
            logger.error("cannot record \(event): \(error)", metadata: ["path": "\(path)"])
        }
    }

    // MARK: slots

    /// Grants free transfer slots to queued files, oldest first.
    private func pump() {
        while !stopped, !draining, runningTransfers < configuration.parallelTransfers, !queue.isEmpty {
            let path = queue.removeFirst()
            queued.remove(path)
            guard records[path] != nil else { continue }
            guard let size = fileSize(path) else {
                // The cache file vanished behind our back (removed while the daemon was down).
                logger.warning("cache file missing, forgetting it", metadata: ["path": "\(path)"])
                deliver(.removed, at: path)
                continue
            }
            deliver(.slotGranted(size: size), at: path)
        }
    }

    private func fileSize(_ path: String, regularOnly: Bool = false) -> Int64? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: cacheRoot + "/" + path) else { return nil }
        if regularOnly && attributes[.type] as? FileAttributeType != .typeRegular { return nil }
        return (attributes[.size] as? NSNumber)?.int64Value
    }

    // MARK: requests to the target

    private func takeToken() -> UInt64 {
        nextToken += 1
        return nextToken
    }

    private func startUpload(_ record: UploadRecord, resume: ResumeData?) {
        guard !stopped else { return }
        let token = takeToken()
        let path = record.path, generation = record.generation, size = record.size
        let file = cacheRoot + "/" + path
        let target = self.target
        runningTransfers += 1
        let task = Task { [weak self] in
            let result: Result<UploadOutcome, UploadTargetError>
            do throws(UploadTargetError) {
                // The target reads the file through a descriptor opened now, so a rename of the cache file
                // (rsync renames its temp file right after closing it) cannot pull it away mid-upload.
                let opened = try OpenedCacheFile(path: file)
                defer { opened.close() }
                let outcome = try await target.upload(
                    file: opened.path, remotePath: path, size: size, resume: resume,
                    onResumeData: { [weak self] data in await self?.uploadCreated(path, token: token, generation: generation, data) },
                    progress: { [weak self] bytes in
                        Task { await self?.uploadProgressed(path, token: token, generation: generation, bytes: bytes) }
                    })
                result = .success(outcome)
            } catch {
                result = .failure(error)
            }
            await self?.uploadEnded(path, token: token, generation: generation, result)
        }
        setActive(path, ActiveRequest(token: token, task: task, progress: 0, started: resume == nil))
    }

    private func uploadCreated(_ path: String, token: UInt64, generation: Int64, _ data: ResumeData) {
        let path = requestPaths[token] ?? path
        guard active[path]?.token == token else {
            guard !stopped else { return }
            // Superseded while the server was creating it: nobody will finish this upload, so delete it.
            do {
                for operation in try journal.commit(operations: [.terminate(data)]) { run(operation) }
            } catch {
                logger.error("cannot queue termination of a superseded upload: \(error)", metadata: ["path": "\(path)"])
            }
            return
        }
        deliver(.uploadCreated(generation: generation, data), at: path)
    }

    private func uploadProgressed(_ path: String, token: UInt64, generation: Int64, bytes: Int64) {
        let path = requestPaths[token] ?? path
        guard active[path]?.token == token, var request = active[path], bytes >= request.progress else { return }
        if request.started { recordAcknowledged(bytes - request.progress) }
        request.started = true
        request.progress = bytes
        setActive(path, request)
        deliver(.uploadProgress(generation: generation, bytes: bytes), at: path)
    }

    private func recordAcknowledged(_ bytes: Int64) {
        guard bytes > 0 else { return }
        metrics.bytesUploaded.increment(by: bytes)
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

    private func uploadEnded(_ path: String, token: UInt64, generation: Int64, _ result: Result<UploadOutcome, UploadTargetError>) {
        let path = requestPaths[token] ?? path
        runningTransfers -= 1
        if active[path]?.token != token, case .success(.stored(let file)) = result {
            discardSuperseded(file, path: path)
        }
        if active[path]?.token == token {
            // A progress report still on its way is dropped once the request is gone: count what it would have.
            if case .success = result, let request = active[path], request.started, let size = records[path]?.size {
                recordAcknowledged(max(0, size - request.progress))
            }
            _ = removeActive(path)
            switch result {
            case .success(let outcome): deliver(.uploadFinished(generation: generation, outcome), at: path)
            case .failure(let error):
                metrics.errors.increment()
                logger.warning("upload failed: \(error)", metadata: ["path": "\(path)"])
                deliver(.uploadFailed(generation: generation, error), at: path)
            }
        }
        pump()
    }

    private func finalize(_ record: UploadRecord, resume: ResumeData?) {
        guard !stopped else { return }
        let path = record.path, generation = record.generation, size = record.size
        let target = self.target
        request(path) {
            guard let resume else { return .uploadFailed(generation: generation, .permanent("nothing to finalize: no upload token")) }
            do throws(UploadTargetError) {
                return .finalizeFinished(generation: generation, try await target.finalize(resume: resume, remotePath: path, size: size))
            } catch {
                return .uploadFailed(generation: generation, error)
            }
        }
    }

    private func pollProcessing(_ path: String) {
        guard !stopped, let record = records[path], record.state == .processing, let remoteId = record.remoteId else { return }
        let generation = record.generation
        let target = self.target
        request(path) {
            do throws(UploadTargetError) {
                return .processingResult(generation: generation, try await target.processingStatus(remoteId: remoteId))
            } catch {
                return .uploadFailed(generation: generation, error)
            }
        }
    }

    /// Runs a request that holds no transfer slot and turns into one event.
    private func request(_ path: String, _ body: @escaping @Sendable () async -> UploadEvent) {
        let token = takeToken()
        let task = Task { [weak self] in
            let event = await body()
            await self?.requestEnded(path, token: token, event)
        }
        setActive(path, ActiveRequest(token: token, task: task))
    }

    private func requestEnded(_ path: String, token: UInt64, _ event: UploadEvent) {
        let path = requestPaths[token] ?? path
        guard active[path]?.token == token else {
            if case .finalizeFinished(_, let file) = event { discardSuperseded(file, path: path) }
            return
        }
        _ = removeActive(path)
        deliver(event, at: path)
    }

    /// The service stored a version nobody tracks any more (written over, renamed or removed while it was
    /// being finalized): move it to the trash so it does not linger as an orphan.
    private func discardSuperseded(_ file: RemoteFile, path: String) {
        guard !stopped else { return }
        logger.info("discarding a superseded remote file", metadata: ["path": "\(path)", "remoteId": "\(file.remoteId)"])
        do {
            for operation in try journal.commit(operations: [.delete(remoteId: file.remoteId)]) { run(operation) }
        } catch {
            logger.error("cannot queue deletion of a superseded file: \(error)", metadata: ["path": "\(path)"])
        }
    }

    private func cancelRequest(_ path: String) {
        if let request = removeActive(path) { request.task.cancel() }
    }

    private func setActive(_ path: String, _ request: ActiveRequest) {
        if let previous = active[path], previous.token != request.token { requestPaths[previous.token] = nil }
        active[path] = request
        requestPaths[request.token] = path
    }

    private func removeActive(_ path: String) -> ActiveRequest? {
        guard let request = active.removeValue(forKey: path) else { return nil }
        requestPaths[request.token] = nil
        return request
    }

    /// Hands the request running for `from` to `to` (a rename its upload survives).
    private func moveRequest(from: String, to: String) {
        guard let request = removeActive(from) else { return }
        cancelRequest(to)
        setActive(to, request)
    }

    // MARK: timers

    private func schedule(_ path: String, after delay: Duration, _ fire: @escaping @Sendable (isolated UploadEngine, String) throws -> Void) {
        guard !stopped else { return }
        timers.set(path, due: .now + max(delay, .zero), token: takeToken(), action: fire)
        armTimerDriver()
    }

    private func cancelTimer(_ path: String) {
        timers.cancel(path)
    }

    /// Makes sure a task wakes the engine when the earliest timer is due (one task for all timers).
    private func armTimerDriver() {
        guard !stopped, let due = timers.earliestDue() else { return }
        if let driver = timerDriver, driver.wakeAt <= due { return }
        timerDriver?.task.cancel()
        let id = takeToken()
        let task = Task { [weak self] in
            do { try await Task.sleep(until: due, clock: .continuous) } catch { return }
            await self?.timersDue(driver: id)
        }
        timerDriver = (id, due, task)
    }

    private func timersDue(driver: UInt64) {
        guard timerDriver?.id == driver else { return }
        timerDriver = nil
        let now = ContinuousClock.now
        while let (path, fire) = timers.popDue(at: now) {
            do { try fire(self, path) } catch {
                logger.error("timer: \(error)", metadata: ["path": "\(path)"])
            }
        }
        armTimerDriver()
    }

    // MARK: remote operations (journal outbox)

    /// Carries out a queued remote operation with backoff; removes it from the journal once done or refused.
    private func run(_ pending: PendingRemoteOperation) {
        guard !stopped, remoteOperations[pending.id] == nil else { return }
        let target = self.target
        let policy = configuration.remoteOperationPolicy
        let logger = self.logger
        // Operations on the same remote file run in the order they were queued (rename a→b, then b→c).
        let key = pending.operation.subject
        let previous = lastOperation[key]
        let task = Task { [weak self] in
            if let previous { await previous.task.value }
            var attempt = 0
            while !Task.isCancelled {
                attempt += 1
                do throws(UploadTargetError) {
                    switch pending.operation {
                    case .terminate(let resume): try await target.terminate(resume: resume)
                    case .delete(let remoteId): try await target.delete(remoteId: remoteId)
                    case .rename(let remoteId, let newPath): try await target.rename(remoteId: remoteId, to: newPath)
                    }
                    break
                } catch {
                    if !error.isRetryable || attempt >= policy.maxAttempts {
                        logger.warning("remote operation given up: \(pending.operation): \(error)")
                        break
                    }
                    let delay = policy.delay(afterAttempt: attempt, seed: UInt64(pending.id) &+ UInt64(attempt))
                    do { try await Task.sleep(for: delay) } catch { return }
                }
            }
            if Task.isCancelled { return }  // stays in the journal for the next start
            await self?.remoteOperationEnded(pending.id, key: key)
        }
        remoteOperations[pending.id] = task
        lastOperation[key] = (pending.id, task)
    }

    private func remoteOperationEnded(_ id: Int64, key: String) {
        remoteOperations[id] = nil
        if lastOperation[key]?.id == id { lastOperation[key] = nil }
        do { try journal.completeOperation(id) } catch {
            logger.error("cannot complete remote operation \(id): \(error)")
        }
    }
}
