import Dispatch
import Foundation
import Logging
import MediaManagerClient

/// Plain upload URLs asked for while small files wait out their write-back delay, so that when a file's turn
/// comes its upload is one PUT instead of two requests in a row.
///
/// A mount that takes in many small files spends most of its time on two requests per file (generate upload URL,
/// then PUT), while the second after a copy, when files wait for their delay, leaves the CPU idle. Each closed
/// file is queued here; up to ``concurrency`` workers read its content type and ask for its URL. When the upload
/// starts it takes the answer if it still fits: the same cache file with the same size (the URL is made for
/// that size; new modification times, as `rsync -a` and `tar` set them, do not matter), the same folder, and a
/// name that gives the same content type (rsync's `.NAME.XXXXXX` renamed to `NAME` does). Content rewritten
/// at the same size keeps the type read before; the PUT sends the bytes as they are then. A file whose turn
/// comes while it is still queued is dropped from the queue and uploaded the usual way; one whose request is
/// running waits for it.
///
/// What it costs: a URL the upload does not use (the file changed, moved to another folder or was deleted)
/// is one wasted request; a file that changes after it was queued is left alone for ``quietAfterChange``.
/// Asking for a URL creates the file's folder on the service (Media Manager's `filePath`) slightly ahead of
/// its upload. The PUT names the file (`?filename=`), so nothing visible is made under a temporary name.
public actor PreparedUploadURLs {
    /// How many URL requests run at once (besides the uploads) by default. On loopback four measured better than
    /// two (the second after a copy leaves the CPU partly idle, and more URLs are ready when uploads start) and
    /// no worse than eight; over a slow link each request takes a round trip, and the mount asks for more
    /// (`UploadRuntime.preparedURLRequests`).
    public static let defaultConcurrency = 4
    /// How many URL requests run at once.
    let concurrency: Int
    /// An answer older than this is not used (upload URLs expire; `tusfs serve`'s after 24 hours).
    static let lifetime: Duration = .seconds(600)
    /// At most this many files are queued or answered; further files are uploaded the usual way.
    static let limit = 10_000
    /// A file closed again with other content after it was queued is not prepared again for this long: a file
    /// that is written and closed over and over (a log) would otherwise cost a URL request at every close.
    static let quietAfterChange: Duration = .seconds(10)

    /// What an upload URL is made for.
    struct Request: Sendable, Hashable {
        var folders: [String]
        /// The name whose extension gave the content type (rsync's temp name counts as the final one).
        var typeName: String
        var size: Int64
    }

    /// A URL ready for a PUT, with the content type it was made for.
    struct Prepared: Sendable {
        var url: URL
        var mimeType: String
        var madeAt: ContinuousClock.Instant
    }

    private enum Work {
        case queued
        case running(Task<Prepared?, Never>)
        case done(Prepared)
    }

    private struct Entry {
        var version: CacheFileVersion
        /// Where the file goes, as it was when it was queued.
        var location: RemoteLocation
        var path: String
        var work: Work

        var request: Request { PreparedUploadURLs.request(for: location, size: version.size) }
    }

    private let client: MediaManagerClient
    private let logger: Logger
    private var entries: [CacheFileVersion.FileKey: Entry] = [:]
    private var queue: [CacheFileVersion.FileKey] = []
    private var running = 0
    /// Files that changed after they were queued, and when.
    private var changed: [CacheFileVersion.FileKey: ContinuousClock.Instant] = [:]
    private let typing = DispatchQueue(label: "tusfs.prepared-upload-urls", qos: .utility)

    init(client: MediaManagerClient, concurrency: Int = PreparedUploadURLs.defaultConcurrency, logger: Logger) {
        self.client = client
        self.concurrency = max(1, concurrency)
        self.logger = logger
    }

    static func request(for location: RemoteLocation, size: Int64) -> Request {
        Request(folders: location.folders, typeName: MimeTypeDetector.nameBeforeRename(location.fileName), size: size)
    }

    /// Queues the cache file at `path` (to be uploaded to `location`) for a URL; a file queued before with the
    /// same request keeps its place or answer.
    func prepare(path: String, location: RemoteLocation) {
        guard let version = CacheFileVersion(of: path) else { return }
        let request = Self.request(for: location, size: version.size)
        let key = version.file
        if let entry = entries[key], entry.version == version, entry.request == request { return }
        let now = ContinuousClock.now
        if let old = entries.removeValue(forKey: key) {
            if case .running(let task) = old.work { task.cancel() }
            if old.version != version {
                if changed.count >= Self.limit { changed.removeAll() }
                changed[key] = now
            }
        }
        if let since = changed[key] {
            guard now - since >= Self.quietAfterChange else { return }
            changed[key] = nil
        }
        guard entries.count < Self.limit else { return }
        entries[key] = Entry(version: version, location: location, path: path, work: .queued)
        queue.append(key)
        startQueued()
    }

    /// The URL prepared for the file at `path` (a cache path or `/proc/self/fd/N`), if it was made for this
    /// version of the file and this location; the answer is used up. Waits for a request that is running.
    func take(path: String, location: RemoteLocation) async -> Prepared? {
        guard let version = CacheFileVersion(of: path), let entry = entries.removeValue(forKey: version.file) else { return nil }
        guard entry.version == version, entry.request == Self.request(for: location, size: version.size) else {
            if case .running(let task) = entry.work { task.cancel() }
            return nil
        }
        let prepared: Prepared?
        switch entry.work {
        case .queued: prepared = nil  // not started: `startQueued` skips keys without an entry
        case .running(let task): prepared = await task.value
        case .done(let answer): prepared = answer
        }
        guard let prepared, ContinuousClock.now - prepared.madeAt < Self.lifetime else { return nil }
        return prepared
    }

    private func startQueued() {
        while running < concurrency, !queue.isEmpty {
            let key = queue.removeFirst()
            guard let entry = entries[key], case .queued = entry.work else { continue }
            running += 1
            let task = Task { [client, typing, logger] in
                await Self.makeURL(for: entry, client: client, typing: typing, logger: logger)
            }
            entries[key]?.work = .running(task)
            Task {
                let answer = await task.value
                self.finished(key, task: task, answer: answer)
            }
        }
    }

    private func finished(_ key: CacheFileVersion.FileKey, task: Task<Prepared?, Never>, answer: Prepared?) {
        running -= 1
        if let entry = entries[key], case .running(let current) = entry.work, current == task {
            if let answer { entries[key]?.work = .done(answer) } else { entries[key] = nil }
        }
        startQueued()
    }

    /// Reads the file's content type (libmagic, off the cooperative threads) and asks for its upload URL.
    private static func makeURL(for entry: Entry, client: MediaManagerClient, typing: DispatchQueue, logger: Logger) async -> Prepared? {
        let (path, location) = (entry.path, entry.location)
        let mimeType = await withCheckedContinuation { continuation in
            typing.async { continuation.resume(returning: client.mimeTypes.mimeType(ofFile: path, fileName: location.fileName)) }
        }
        guard !Task.isCancelled, CacheFileVersion(of: path) == entry.version else { return nil }
        do {
            let url = try await client.generateUploadURL(for: location, size: entry.version.size, mimeType: mimeType)
            return Prepared(url: url, mimeType: mimeType, madeAt: .now)
        } catch {
            logger.debug("preparing an upload URL failed; the upload will ask again", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
