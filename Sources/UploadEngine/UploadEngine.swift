import Foundation
import Logging
import Synchronization
import Timekeeping
import UploadStatus

/// The upload engine: the thin driver around `UploadStateMachine`.
///
/// It takes file events from the mirror filesystem (mount-relative paths), commits every transition to the
/// `UploadJournal` before carrying out its actions, runs up to `parallelTransfers` uploads at once against an
/// `UploadTarget`, and feeds the results back as events. Files are read from `cacheRoot + "/" + path` (see `OpenedCacheFile`: no symbolic link is followed).
/// Its parts live in their own types: `TransferSlots` (who waits, who runs), `FileTimers` (write-back,
/// retry and poll timers), `RemoteOperationOutbox` (deletes, renames, terminations) and `StatusReadModel`
/// (what the status surface reads).
///
/// Call `start()` once before the first file event: it loads the journal and resumes what a previous run
/// left (uploads continue from the server's offset).
public actor UploadEngine {
    nonisolated let journal: UploadJournal
    let target: any UploadTarget
    let cacheRoot: String
    let configuration: UploadEngineConfiguration
    /// Files are prepared for their upload (``UploadTarget/prepare(file:remotePath:)``) only when the write-back
    /// delay is at most this long; a mount that holds uploads back for longer prepares nothing.
    static let longestDelayWorthPreparing: Duration = .seconds(60)
    let machine: UploadStateMachine
    let logger: Logger
    nonisolated let metrics = UploadMetrics()

    /// What the engine knows of every file that has not settled (plus upload progress, which is not
    /// journalled). A settled file (`ready`, failed for good) lives in the journal only; `knownRecord(at:)`
    /// reads it from there when an event concerns it.
    var records: [String: UploadRecord] = [:]
    /// While a burst of file events is applied: the journal's records of the files it names that memory does
    /// not hold (`.some(nil)`: not in the journal either), read at once; a path's entry goes when a transition
    /// touches it, and all of them at the end of the burst.
    var burstRecords: [String: UploadRecord?] = [:]
    /// While a run of file events is worked out in one journal transaction (`applyInOneTransaction`): the
    /// transitions committed in it so far, carried out once it is committed, and what each left at the paths
    /// it touched (`.some(nil)`: no record there now), which later events of the run see before memory.
    var plannedTransitions: [PlannedTransition]?
    var plannedRecords: [String: UploadRecord?] = [:]
    /// Files waiting for a transfer slot, and the upload, finalize or status request running for each file.
    var slots: TransferSlots<Task<Void, Never>>
    /// The write-back, retry or poll timer of each file (at most one applies in any state).
    var timers = FileTimers<@Sendable (isolated UploadEngine, String) throws -> Void>()
    /// The one task sleeping until the earliest timer is due, and when that is.
    var timerDriver: (id: UInt64, wakeAt: ContinuousClock.Instant, task: Task<Void, Never>)?
    /// Remote deletes, renames and terminations being carried out.
    var outbox = RemoteOperationOutbox()
    var stopped = false
    /// Set while shutting down gracefully: no new upload starts.
    var draining = false
    /// Whether the service answers (see `UploadEngine+ServiceHealth`).
    var health = ServiceHealth()
    /// How many small-file uploads may run at once, adapted to the service's answers
    /// (see `UploadEngine+RequestWindow`).
    var window: RequestWindow
    /// Wakes the engine when a pause the service asked for (429 `Retry-After`) ends.
    var windowWake: Task<Void, Never>?
    /// Finalizes and processing polls the service throttled, asked again when the pause ends.
    var throttleHeld: Set<String> = []
    /// The probe waiting to ask the service whether it is back, during an outage.
    var probeTask: Task<Void, Never>?
    /// Where remote operations wait during an outage.
    nonisolated let reachability = ReachabilityGate()
    /// Events the journal refused (disk full), in order, waiting to be applied (`UploadEngine+HeldEvents`).
    var heldEvents: [HeldEvent] = []
    /// The retry of the held events, and how often it failed in a row.
    var heldRetry: Task<Void, Never>?
    var heldRetryFailures = 0
    /// The journal's last write error while events are held.
    var journalError: String?
    /// Processing reports the service sent before the upload's answer came (`UploadEngine+ServiceReports`).
    var earlyReports = EarlyReports()
    /// When `start()` ran: cache files modified before were written while no daemon ran.
    var startedAt = Date()
    /// The start-up count of the journal's totals and the cache check, running in the background.
    var startUpTasks: [Task<Void, Never>] = []

    /// The records and throughput as the FUSE threads read them, without waiting for the actor.
    nonisolated let readModel: StatusReadModel
    /// Events posted from the filesystem's threads, applied in order by one task.
    private nonisolated let postedEvents = Mutex<[FileEvent]>([])
    /// Wakes the event loop when the first event arrives in an empty `postedEvents`.
    private nonisolated let eventsArrived = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    private nonisolated let postedCount = Atomic<Int>(0)
    private var appliedCount = 0
    private var eventLoop: Task<Void, Never>?

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
        self.slots = TransferSlots(capacity: configuration.parallelTransfers)
        self.window = RequestWindow(cap: configuration.maxRequests)
        self.readModel = StatusReadModel(journal: journal)
        self.logger = logger
    }

    // MARK: life cycle

    /// Loads the journal and recovers: `uploading`/`finalizing` resume from the server's offset, `pending` and
    /// `local` upload again, `processing` is polled, scheduled retries are rescheduled, and remote deletes,
    /// renames and terminations that were queued but not confirmed are sent again.
    public func start() throws(UploadJournalError) {
        stopped = false
        draining = false
        startedAt = Date()
        // Only the files that have not settled come into memory. The totals of every directory are counted
        // from a snapshot of the journal in the background, after the mount is up: the changes applied from
        // now on are counted as they come, and the snapshot's totals are added to them when counted.
        let snapshot = try journal.snapshot()
        for record in try snapshot.unsettledRecords() { records[record.path] = record }
        readModel.startOver(active: records)
        countTotals(from: snapshot)
        metrics.recordService(health.status)
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
        heldRetry?.cancel()
        heldRetry = nil
        probeTask?.cancel()
        probeTask = nil
        windowWake?.cancel()
        windowWake = nil
        timerDriver?.task.cancel()
        timerDriver = nil
        for task in slots.removeAll() { task.cancel() }
        outbox.cancelAll()
        timers.removeAll()
        logger.info("upload engine stopped")
    }

    // MARK: file events (from the mirror filesystem)

    /// Posts a file event without waiting: safe to call from any thread (the FUSE worker threads), and
    /// applied in the order posted. A daemon killed before an event is applied loses nothing: the next
    /// start's `reconcileWithCache()` finds the changed file. An event the journal refuses (a full disk) is
    /// held and applied again until it can be recorded (`UploadEngine+HeldEvents`).
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
        defer { burstRecords.removeAll(keepingCapacity: true) }
        // Runs of events go in one journal transaction each. A directory rename goes on its own: it finds the
        // files under the directory in memory, which a run changes only once it is committed.
        var run: [FileEvent] = []
        func applyRun() {
            if run.count > 1 && heldEvents.isEmpty && !stopped {
                applyInOneTransaction(run)
            } else {
                lookUpBurst(run)
                for event in run { applyOrHold(.file(event)) }
            }
            appliedCount += run.count
            run.removeAll(keepingCapacity: true)
        }
        for event in events {
            if case .directoryRenamed = event {
                applyRun()
                applyOrHold(.file(event))
                appliedCount += 1
            } else {
                run.append(event)
            }
        }
        applyRun()
    }

    /// Applies `events` in one journal transaction: each event's transition is worked out and written in
    /// it, and carried out (memory, timers, requests) only once it is committed, in order, so the engine
    /// still never acts on a change the journal does not have. When the transaction fails, nothing was
    /// carried out and every event of the run is held (`UploadEngine+HeldEvents`), to be applied one by one.
    private func applyInOneTransaction(_ events: [FileEvent]) {
        let committed = Result { () throws(UploadJournalError) in
            try journal.inOneTransaction {
                lookUpBurst(events)
                plannedTransitions = []
                for event in events { try apply(event) }
                return plannedTransitions ?? []
            }
        }
        // Planning ends here: what is carried out below (a slot granted, a timer due at once) is handled as
        // usual, in its own transaction.
        plannedTransitions = nil
        plannedRecords.removeAll(keepingCapacity: true)
        let transitions: [PlannedTransition]
        switch committed {
        case .success(let planned):
            transitions = planned
        case .failure(let error):
            burstRecords.removeAll(keepingCapacity: true)
            for (index, event) in events.enumerated() { hold(.file(event), because: index == 0 ? error : nil) }
            return
        }
        var wantsSlot = false
        for transition in transitions where carryOut(transition) { wantsSlot = true }
        // Slots are granted once the whole run is carried out: a file the run renames or removes after
        // closing it must not start uploading under its first name in between.
        if wantsSlot { pump() }
    }

    /// Reads the journal's records of every file a burst of events names and memory does not hold, in one
    /// read, for ``knownRecord(at:)`` while the burst is applied (a `cp -r` of new files would otherwise cost
    /// a journal read per file, and `rsync`'s renames one more). When the read fails, each file is looked up on
    /// its own as before.
    private func lookUpBurst(_ events: [FileEvent]) {
        guard events.count > 1 else { return }
        var paths = Set<String>()
        for event in events {
            switch event {
            case .written(let path), .closed(let path, _), .removed(let path), .retry(let path): paths.insert(path)
            case .renamed(let from, let to): paths.insert(from); paths.insert(to)
            case .directoryRenamed: continue
            }
        }
        paths = paths.filter { records[$0] == nil }
        guard paths.count > 1, let found = try? journal.records(for: paths) else { return }
        for path in paths { burstRecords[path] = .some(nil) }
        for record in found { burstRecords[record.path] = .some(record) }
    }

    // MARK: transitions

    /// Applies `event` to the file at `path`: commits the result to the journal, then carries out the actions.
    func handle(_ event: UploadEvent, at path: String, createIfMissing: Bool = false) throws(UploadJournalError) {
        guard !stopped else {
            // After shutdown the journal belongs to the next run; late results are left to its recovery.
            logger.debug("ignored after shutdown: \(event)", metadata: ["path": "\(path)"])
            return
        }
        let now = Date()
        let known = try knownRecord(at: path)
        let isNew = known == nil
        guard let record = known ?? (createIfMissing ? machine.newRecord(path: path, now: now) : nil) else { return }
        let (next, actions) = machine.transition(record, event, now: now)
        let operations = actions.compactMap(RemoteOperation.init)
        let forget = actions.contains(.forget)
        // A new file being written is not journalled until it is closed: after a crash, a cache file the journal
        // does not know is found and uploaded anyway (`reconcileWithCache`), so the record would add nothing.
        let persist = actions.contains(.persist) || (isNew && !forget && next.state != .local)

        // 1. Commit: the state change and the remote operations it requires, in one transaction (or in the
        // transaction of the run of events being applied, carried out when that is committed).
        var queuedOperations: [PendingRemoteOperation] = []
        if forget {
            queuedOperations = try journal.commit(remove: path, operations: operations)
        } else if persist {
            queuedOperations = try journal.commit(save: next, renamedFrom: next.path != path ? path : nil, operations: operations)
        } else if !operations.isEmpty {
            queuedOperations = try journal.commit(operations: operations)
        }
        let transition = PlannedTransition(
            event: event, path: path, known: known, record: record, next: next, actions: actions, persist: persist,
            forget: forget, queuedOperations: queuedOperations, now: now)
        if plannedTransitions != nil {
            plannedTransitions!.append(transition)
            if forget || next.path != path { plannedRecords[path] = .some(nil) }
            if !forget { plannedRecords[next.path] = .some(next) }
            return
        }
        if carryOut(transition) { pump() }
    }

    /// Carries out a committed transition: memory, the status read model, then its actions. Returns whether
    /// a file joined the line for a transfer slot.
    private func carryOut(_ transition: PlannedTransition) -> Bool {
        let (event, path, known, record, next) = (
            transition.event, transition.path, transition.known, transition.record, transition.next
        )
        let (actions, persist, forget, now) = (transition.actions, transition.persist, transition.forget, transition.now)

        // 2. Update memory; timers and requests of the old state or old name are stale now.
        if !burstRecords.isEmpty {
            burstRecords[path] = nil
            burstRecords[next.path] = nil
        }
        if persist || forget { timers.cancel(path) }
        let moved = forget || next.path != path
        if moved {
            records[path] = nil
            if actions.contains(.followRename) { moveRequest(from: path, to: next.path) } else { cancelRequest(path) }
            slots.leaveQueue(path)
        }
        // A settled file leaves memory: the journal has it (every settling transition is persisted).
        if !forget { records[next.path] = next.isSettled ? nil : next }
        readModel.update(from: known, to: forget ? nil : next, removing: moved ? path : nil)
        if event != .restarted || persist {
            logger.debug("\(event) → \(next.state)", metadata: ["path": "\(next.path)", "generation": "\(next.generation)"])
        }
        if !forget, next.state != record.state, next.state == .ready || next.state == .failed { logOutcome(next, now: now) }

        // 3. Act.
        for operation in transition.queuedOperations { run(operation) }
        return carryOut(actions, for: next, oldPath: path, now: now)
    }

    /// Carries out what a transition asked for, after it was committed. Returns whether a file joined the
    /// line for a transfer slot.
    private func carryOut(_ actions: [UploadAction], for next: UploadRecord, oldPath: String, now: Date) -> Bool {
        var wantsSlot = false
        for action in actions {
            switch action {
            case .persist, .forget, .terminateRemoteUpload, .deleteRemote, .renameRemote, .followRename:
                break  // done by `handle`
            case .cancelUpload:
                cancelRequest(oldPath)
            case .prepare:
                // A hint (content type, upload URL) read later by path: only for a regular file reached without
                // a link now, and not during an outage (one more request to a service that is away). The upload
                // itself opens the file again without following links and sends nothing a link swapped in
                // meanwhile points to (see `OpenedCacheFile`).
                // Nor when uploads are held back for long (`--write-back` beyond a minute): the hint would be
                // stale long before the upload, and it costs CPU while files are copied in.
                if configuration.writeBackDelay <= Self.longestDelayWorthPreparing, !serviceIsUnreachable,
                    CacheTree(root: cacheRoot).isRegularFileWithoutLinks(next.path)
                {
                    target.prepare(file: cacheRoot + "/" + next.path, remotePath: next.path)
                }
            case .scheduleWriteBack(let delay), .scheduleFinalize(let delay):
                schedule(next.path, after: delay) { engine, path in try engine.handle(.writeBackElapsed, at: path) }
            case .scheduleRetry(let date):
                metrics.retries.increment()
                schedule(next.path, after: .seconds(max(date.timeIntervalSince(now), 0))) { engine, path in
                    try engine.handle(.retryTimerElapsed, at: path)
                }
            case .pollProcessing(let delay):
                if let remoteId = next.remoteId, let reported = earlyReports.take(remoteId, at: .now) {
                    schedule(next.path, after: .zero) { engine, path in engine.applyEarlyReport(reported, at: path) }
                } else {
                    schedule(next.path, after: delay) { engine, path in engine.pollProcessing(path) }
                }
            case .enqueue:
                slots.enqueue(next.path, small: isSmall(next.size))
                wantsSlot = true
            case .enqueueFirst:
                slots.enqueue(next.path, first: true, small: isSmall(next.size))
                wantsSlot = true
            case .startUpload(let resume):
                startUpload(next, resume: resume)
            case .finalize(let resume):
                finalize(next, resume: resume)
            }
        }
        return wantsSlot
    }

    /// Handles an event from a timer or a finished request; one the journal refuses is held and applied
    /// again until it can be recorded.
    func deliver(_ event: UploadEvent, at path: String) {
        applyOrHold(.upload(event, path: path))
    }

    /// The record of the file at `path`: in memory while it has not settled, else from the journal.
    func knownRecord(at path: String) throws(UploadJournalError) -> UploadRecord? {
        if let planned = plannedRecords[path] { return planned }
        if let record = records[path] { return record }
        if let looked = burstRecords[path] { return looked }
        return try journal.record(for: path)
    }

    // MARK: slots

    /// Grants free transfer slots to waiting files, oldest first (small files within the request window,
    /// large ones within `parallelTransfers`); none while the service is unreachable.
    func pump() {
        // During a pause a 429 asked for, nothing new goes out (`pauseEnded` pumps again).
        let smallLimit = window.allowed(at: .now)
        guard smallLimit > 0 else { return }
        while !stopped, !draining, !serviceIsUnreachable, let path = slots.nextWaiting(smallLimit: smallLimit) {
            guard records[path] != nil else { continue }
            // A path that goes through a symbolic link is not "missing": its upload fails and says why.
            guard let size = fileSize(path) ?? (CacheTree(root: cacheRoot).isBlockedByLink(path) ? records[path]?.size : nil) else {
                // The cache file vanished behind our back (removed while the daemon was down).
                logger.warning("cache file missing, forgetting it", metadata: ["path": "\(path)"])
                deliver(.removed, at: path)
                continue
            }
            deliver(.slotGranted(size: size), at: path)
        }
    }

    func fileSize(_ path: String, regularOnly: Bool = false) -> Int64? {
        guard let attributes = CacheTree(root: cacheRoot).status(of: path) else { return nil }
        if regularOnly && attributes.st_mode & S_IFMT != S_IFREG { return nil }
        return Int64(attributes.st_size)
    }
}
