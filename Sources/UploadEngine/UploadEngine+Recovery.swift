import Foundation
import UploadStatus

/// Catching up with what happened while no engine ran, and winding down without losing work.
extension UploadEngine {
    /// Finds regular files in the cache that the journal does not know (written while the daemon was down)
    /// and uploaded files whose cache copy changed since (size differs, or modified after `updatedAt`), and
    /// queues them as if they had just been closed. Returns how many it queued. Call after `start()`.
    /// `isExcluded` skips paths that belong to the mirror itself, not to the user.
    @discardableResult
    public func reconcileWithCache(isExcluded: @Sendable (String) -> Bool = { _ in false }) throws(UploadJournalError) -> Int {
        // Walked by descriptors, names decoded with `PathBytes`: a name that is not UTF-8 is found too.
        let found = CacheTree(root: cacheRoot).regularFiles().filter { !isExcluded($0.path) }.map { file in
            (path: file.path, size: file.size,
             modified: Date(timeIntervalSince1970: Double(file.modified.tv_sec) + Double(file.modified.tv_nsec) / 1e9))
        }
        // The cache's files and the journal's records, both in byte order, side by side: one pass over the
        // journal, a record at a time, whatever its size. What to queue is decided first and done after.
        let sorted = found.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        var changed: [(path: String, size: Int64, known: Bool)] = []
        var index = 0
        func consider(_ file: (path: String, size: Int64, modified: Date), _ record: UploadRecord?) {
            guard let record = records[file.path] ?? record else {
                changed.append((file.path, file.size, false))
                return
            }
            if [.processing, .ready].contains(record.state), record.size != file.size || file.modified > record.updatedAt {
                changed.append((file.path, file.size, true))
            }
        }
        try journal.forEachRecord { record in
            while index < sorted.count, sorted[index].path.utf8.lexicographicallyPrecedes(record.path.utf8) {
                consider(sorted[index], nil)
                index += 1
            }
            if index < sorted.count, sorted[index].path == record.path {
                consider(sorted[index], record)
                index += 1
            }
        }
        while index < sorted.count {
            consider(sorted[index], nil)
            index += 1
        }
        var queuedCount = 0
        for file in changed {
            if file.known { try handle(.written, at: file.path) }
            try fileClosed(file.path, size: file.size)
            queuedCount += 1
        }
        if queuedCount > 0 { logger.info("found files changed behind the journal", metadata: ["files": "\(queuedCount)"]) }
        return queuedCount
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
