import Foundation
import TestSupport
import Testing
import UploadEngine
import UploadStatus

/// The daemon reads cache files as root: a symbolic link put where a cache file or one of its directories was
/// must make the upload fail, never send the file the link points to.
@Suite("Cache files are opened without following symbolic links")
struct CacheSymlinkTests {
    /// A file only root may read, standing for `/etc/shadow`.
    static func secret(in harness: EngineHarness) throws -> String {
        let path = harness.directory.appending("secret.txt")
        try Data("root-only secret".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        return path
    }

    @Test func aCacheFileReplacedByASymlinkFailsInsteadOfUploadingWhatItPointsTo() async throws {
        let harness = try EngineHarness()
        defer { harness.directory.remove() }
        let secret = try Self.secret(in: harness)
        try await harness.engine.start()
        // Written and closed as far as the engine knows; on disk a link to the secret by the time it is read.
        try await harness.engine.fileWritten("notes.txt")
        try FileManager.default.createSymbolicLink(atPath: harness.cacheRoot + "/notes.txt", withDestinationPath: secret)
        try await harness.engine.fileClosed("notes.txt", size: 16)
        try await waitUntil("the upload failed") { await harness.state("notes.txt") == .failed }
        let record = try #require(await harness.engine.status(of: "notes.txt"))
        #expect(record.error?.contains("symbolic link") == true, "error: \(record.error ?? "none")")
        #expect(record.nextAttemptAt == nil, "a link stays a link: not retried")
        #expect(harness.target.calls.uploads == 0, "the target never got the file")
        #expect(harness.service.liveFiles.isEmpty)
        await harness.engine.shutdown(waitForUploads: false)
    }

    @Test func aDirectoryReplacedByASymlinkFailsInsteadOfUploadingTheFileBehindIt() async throws {
        let harness = try EngineHarness()
        defer { harness.directory.remove() }
        // `outside/report.txt` holds the secret; `CACHE/files/docs` becomes a link to `outside`.
        let outside = harness.directory.appending("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try Data("root-only secret".utf8).write(to: URL(fileURLWithPath: outside + "/report.txt"))
        try await harness.engine.start()
        try await harness.engine.fileWritten("docs/report.txt")
        try FileManager.default.createSymbolicLink(atPath: harness.cacheRoot + "/docs", withDestinationPath: outside)
        try await harness.engine.fileClosed("docs/report.txt", size: 16)
        try await waitUntil("the upload failed") { await harness.state("docs/report.txt") == .failed }
        let record = try #require(await harness.engine.status(of: "docs/report.txt"))
        #expect(record.error?.contains("symbolic link") == true, "error: \(record.error ?? "none")")
        #expect(harness.target.calls.uploads == 0)
        #expect(harness.service.liveFiles.isEmpty)
        await harness.engine.shutdown(waitForUploads: false)
    }

    @Test func aRegularFileNextToTheLinksIsStillUploaded() async throws {
        let harness = try EngineHarness()
        defer { harness.directory.remove() }
        try await harness.engine.start()
        let data = content(3, size: 5000)
        try await harness.write("real/file.bin", data)
        try await waitUntil("ready") { await harness.state("real/file.bin") == .ready }
        #expect(harness.service.liveFiles == ["real/file.bin": [data]])
        await harness.engine.shutdown(waitForUploads: true)
    }
}
