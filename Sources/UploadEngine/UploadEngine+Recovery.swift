import Foundation
import UploadStatus

/// Catching up with what happened while no engine ran, and winding down without losing work.
extension UploadEngine {
    /// Counts the totals of every directory from `snapshot` (the journal as `start()` found it), off the actor,
    /// and adds them to the read model: the status surface says `reconciling` until then.
    func countTotals(from snapshot: UploadJournal.Snapshot) {
        let readModel = readModel
        let logger = logger
        startUpTasks.append(Task.detached(priority: .utility) {
            let clock = ContinuousClock()
            let started = clock.now
            var totals = DirectoryTotals()
            do {
                try snapshot.forEachRecord { totals.add($0) }
            } catch {
                logger.error("cannot count the files in the upload journal", metadata: ["error": "\(error)"])
            }
            readModel.addCounted(totals)
            logger.info(
                "counted the files recorded before",
                metadata: ["files": "\(totals.summary(ofDirectory: "")?.files ?? 0)", "seconds": "\((clock.now - started).seconds)"])
        })
    }

    /// Runs `reconcileWithCache` in the background, after the mount is up: the status surface says
    /// `reconciling` until it is done.
    public func reconcileInBackground(isExcluded: @escaping @Sendable (String) -> Bool = { _ in false }) {
        readModel.setCheckingCache(true)
        startUpTasks.append(Task { [weak self] in
            guard let self else { return }
            do {
                try await self.reconcileWithCache(isExcluded: isExcluded)
            } catch {
                self.logger.error("cannot check the cache against the upload journal", metadata: ["error": "\(error)"])
            }
            self.readModel.setCheckingCache(false)
        })
    }

    /// Waits until the start-up count and the background cache check are done.
    public func waitUntilReconciled() async {
        for task in startUpTasks { await task.value }
    }

    /// Finds regular files in the cache that the journal does not know (written while the daemon was down)
    /// and uploaded files whose cache copy changed since (size differs, or modified after `updatedAt`), and
    /// queues them as if they had just been closed. Returns how many it queued. Call after `start()`.
    /// `isExcluded` skips paths that belong to the mirror itself, not to the user.
    ///
    /// The cache is walked off the actor, a directory at a time, each file looked up by path (in memory, or
    /// in the journal): its memory is the files found changed, not the files in the cache. Files modified
    /// since `start()` were written through this mount and are left to its own events.
    @discardableResult
    public func reconcileWithCache(isExcluded: @escaping @Sendable (String) -> Bool = { _ in false }) async throws(UploadJournalError) -> Int {
        let readModel = readModel
        let startedAt = startedAt
        let tree = CacheTree(root: cacheRoot)
        let found = await Task.detached(priority: .utility) {
            var changed: [(path: String, size: Int64, modified: Date)] = []
            tree.forEachRegularFile { path, size, modified in
                guard modified < startedAt, !isExcluded(path) else { return }
                if Self.changedBehindTheJournal(size: size, modified: modified, record: readModel.current(at: path)) {
                    changed.append((path, size, modified))
                }
            }
            return changed
        }.value
        // Checked again on the actor: the mount may have changed them since.
        var queuedCount = 0
        for file in found {
            guard let attributes = tree.status(of: file.path), attributes.st_mode & S_IFMT == S_IFREG,
                Int64(attributes.st_size) == file.size
            else { continue }
            let record = try knownRecord(at: file.path)
            guard Self.changedBehindTheJournal(size: file.size, modified: file.modified, record: record) else { continue }
            if record != nil { try handle(.written, at: file.path) }
            try fileClosed(file.path, size: file.size)
            queuedCount += 1
        }
        if queuedCount > 0 { logger.info("found files changed behind the journal", metadata: ["files": "\(queuedCount)"]) }
        return queuedCount
    }

    /// Whether a cache file of `size`, modified at `modified`, needs uploading: the journal has no record of
    /// it, or it changed after its upload (a different size, or modified later).
    nonisolated static func changedBehindTheJournal(size: Int64, modified: Date, record: UploadRecord?) -> Bool {
        guard let record else { return true }
        return [.processing, .ready].contains(record.state) && (record.size != size || modified > record.updatedAt)
    }

    /// Lets the chunks in flight land: waits until every upload that is moving bytes has reported new
    /// progress or ended, or `grace` has passed. Nothing new starts meanwhile.
    func waitForChunks(grace: Duration) async {
        draining = true
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: grace)
        var waiting = slots.allRequests.filter { records[$0.key]?.state == .uploading }
            .mapValues { (token: $0.token, progress: $0.progress) }
        if !waiting.isEmpty { logger.info("waiting for chunks in flight", metadata: ["uploads": "\(waiting.count)"]) }
        while !waiting.isEmpty, clock.now < deadline {
            for (path, start) in waiting {
                guard let request = slots.request(at: path), request.token == start.token, request.progress == start.progress else {
                    waiting[path] = nil  // ended, or its chunk was acknowledged
                    continue
                }
            }
            if !waiting.isEmpty { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }

    /// Whether a remote operation runs or a file has something left to send.
    var hasWork: Bool {
        !outbox.isEmpty || records.values.contains { $0.hasWorkLeft }
    }
}
