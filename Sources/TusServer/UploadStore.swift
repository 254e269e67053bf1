import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Uploads on disk: for each id, `ID.bin` (the bytes received) and `ID.json` (its ``UploadInfo``).
///
/// The info record is replaced atomically (write to a temp file, rename), so a crash leaves either the old or the
/// new record; the data file may then hold bytes past the recorded offset, which the next write overwrites.
/// The store also keeps the per-upload writer lock: one request at a time may change an upload.
public actor UploadStore {
    /// The directory holding the files.
    public let directory: URL
    private var writers: Set<String> = []

    /// Opens (and creates if needed) the store in `directory`.
    public init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// The path of the data file of upload `id` (the id must be valid).
    public nonisolated func dataPath(_ id: String) -> String {
        directory.appendingPathComponent("\(id).bin").path
    }

    private nonisolated func infoPath(_ id: String) -> String {
        directory.appendingPathComponent("\(id).json").path
    }

    /// Stores a new upload with an empty data file.
    public func create(_ info: UploadInfo) throws {
        guard UploadInfo.isValidID(info.id) else { throw TusRefusal.badRequest("invalid upload id") }
        guard FileManager.default.createFile(atPath: dataPath(info.id), contents: nil) else {
            throw TusRefusal.storage("cannot create the data file")
        }
        try save(info)
    }

    /// The info of upload `id`.
    /// - Throws: ``TusRefusal/notFound`` when there is no such upload (or `id` is not an upload id at all).
    public func info(_ id: String) throws -> UploadInfo {
        guard UploadInfo.isValidID(id) else { throw TusRefusal.notFound }
        guard let data = FileManager.default.contents(atPath: infoPath(id)) else { throw TusRefusal.notFound }
        do {
            return try JSONDecoder().decode(UploadInfo.self, from: data)
        } catch {
            throw TusRefusal.storage("unreadable info record of upload \(id)")
        }
    }

    /// Replaces the info record of an upload, durably.
    public func save(_ info: UploadInfo) throws {
        let data: Data
        do { data = try JSONEncoder().encode(info) } catch { throw TusRefusal.storage("cannot encode upload info") }
        do {
            try data.write(to: URL(fileURLWithPath: infoPath(info.id)), options: .atomic)
        } catch {
            throw TusRefusal.storage("cannot write the info record: \(error.localizedDescription)")
        }
    }

    /// Takes the writer lock of upload `id`, waiting up to `wait` for the current writer to finish.
    /// - Throws: ``TusRefusal/locked`` when the upload stays busy.
    public func acquireWriter(_ id: String, wait: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: wait)
        while writers.contains(id) {
            guard clock.now < deadline else { throw TusRefusal.locked }
            try await Task.sleep(for: .milliseconds(20))
        }
        writers.insert(id)
    }

    /// Releases the writer lock taken with ``acquireWriter(_:wait:)``.
    public func releaseWriter(_ id: String) {
        writers.remove(id)
    }

    /// Removes the upload's files. Removing an upload that does not exist is not an error.
    public func remove(_ id: String) {
        BackgroundDigests.shared.forget(id)
        guard UploadInfo.isValidID(id) else { return }
        try? FileManager.default.removeItem(atPath: infoPath(id))
        try? FileManager.default.removeItem(atPath: dataPath(id))
    }

    /// Moves the data file of a complete upload to `destination` and forgets the upload.
    public func takeData(_ id: String, to destination: URL) throws {
        guard UploadInfo.isValidID(id) else { throw TusRefusal.notFound }
        try? FileManager.default.removeItem(at: destination)
        do {
            try FileManager.default.moveItem(atPath: dataPath(id), toPath: destination.path)
        } catch {
            throw TusRefusal.storage("cannot move the upload's data: \(error.localizedDescription)")
        }
        try? FileManager.default.removeItem(atPath: infoPath(id))
    }

    /// Removes unfinished uploads that expired before `now`; returns their ids.
    @discardableResult
    public func removeExpired(now: Date = Date()) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var removed: [String] = []
        for name in names where name.hasSuffix(".json") {
            let id = String(name.dropLast(5))
            guard !writers.contains(id), let info = try? info(id), info.isExpired(at: now) else { continue }
            remove(id)
            removed.append(id)
        }
        return removed
    }
}
