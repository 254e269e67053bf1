import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Crashes and faults: the daemon killed with SIGKILL mid-upload, a service that fails and drops
/// connections, a file failed for good and retried on demand. Nothing may be lost or sent twice.
@Suite("Upload recovery", .serialized)
struct UploadRecoveryTests {
    /// The largest PATCH these mounts send (`--max-chunk-size`, fixed PATCHes of the first size): the most a
    /// crash or an unmount may cost in bytes sent again.
    static let chunk: Double = 64 * 1024 * 1024
    static let fixedChunks = ["--max-chunk-size", "64M"]

    /// `count` files of 1–24 KiB in 10 directories under `root`; returns their total size.
    static func smallFiles(_ count: Int, at root: String) throws -> Int {
        var total = 0
        for index in 0..<count {
            let directory = root + "/dir-\(index % 10)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let size = 1024 + (index * 7919) % (23 * 1024)
            try randomBytes(size).write(to: URL(fileURLWithPath: directory + "/file \(index).bin"))
            total += size
        }
        return total
    }

    /// The progress xattr as (uploaded, size).
    static func progress(_ bridge: UploadBridgeFixture, _ relative: String) throws -> (Int64, Int64)? {
        guard let text = try bridge.status(relative, "progress") else { return nil }
        let parts = text.split(separator: "/").compactMap { Int64($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    @Test func killDuringAOneGiBUploadResumesFromTheServersOffset() async throws {
        let size = 1 << 30
        let bridge = try UploadBridgeFixture("crash-big", mountArguments: ["--write-back", "0"] + Self.fixedChunks)
        defer { bridge.cleanup() }
        try MixedTree.largeFile(bridge.mount.path("movie.bin"), size: size)

        // Kill once the server has acknowledged at least two chunks and before it has everything.
        let midway = try await UploadBridgeFixture.eventually(timeout: 120) {
            guard let (uploaded, _) = try Self.progress(bridge, "movie.bin") else { return false }
            return uploaded >= 2 * Int64(Self.chunk) && uploaded < Int64(size)
        }
        #expect(midway, "never saw the upload between 128 MiB and the end")
        let acknowledgedBeforeKill = try Self.progress(bridge, "movie.bin")?.0 ?? 0
        try bridge.killDaemon()
        try bridge.mount.mount()
        let wait = try bridge.wait(timeout: 300)
        #expect(wait.status == 0, "\(wait.stderr)\n\(bridge.daemonLog.suffix(3000))")

        let file = try #require(try await bridge.contents().files["movie.bin"])
        #expect(file.operationStatus == "READY")
        let downloaded = try await ServiceContents.download(file)
        let same = downloaded == (try Data(contentsOf: URL(fileURLWithPath: bridge.mount.backingPath("movie.bin"))))
        #expect(downloaded.count == size && same)
        let received = try await bridge.server.metric("tusfs_server_bytes_received_total")
        #expect(received <= Double(size) + Self.chunk, "received \(received) bytes for a \(size)-byte file (killed at \(acknowledgedBeforeKill))\n\(bridge.daemonLog.suffix(6000))")
    }

    /// A plain unmount in the middle of a large upload: the chunk in flight lands first (the daemon waits for
    /// its acknowledgement), the rest resumes at the next mount from the server's offset.
    @Test func unmountMidUploadResumesAtTheNextMount() async throws {
        let size = 400 << 20
        let bridge = try UploadBridgeFixture("graceful", mountArguments: ["--write-back", "0"] + Self.fixedChunks)
        defer { bridge.cleanup() }
        try MixedTree.largeFile(bridge.mount.path("movie.bin"), size: size)
        let midway = try await UploadBridgeFixture.eventually(timeout: 120) {
            guard let (uploaded, _) = try Self.progress(bridge, "movie.bin") else { return false }
            return uploaded > 0 && uploaded < Int64(size)
        }
        #expect(midway, "never saw the upload half-way")
        try bridge.mount.unmount()
        let receivedAtUnmount = try await bridge.server.metric("tusfs_server_bytes_received_total")
        #expect(receivedAtUnmount < Double(size), "the whole file went before the unmount")
        try bridge.mount.mount()
        let wait = try bridge.wait(timeout: 300)
        #expect(wait.status == 0, "\(wait.stderr)\n\(bridge.daemonLog.suffix(3000))")
        let file = try #require(try await bridge.contents().files["movie.bin"])
        let downloaded = try await ServiceContents.download(file)
        let same = downloaded == (try Data(contentsOf: URL(fileURLWithPath: bridge.mount.backingPath("movie.bin"))))
        #expect(downloaded.count == size && same)
        let received = try await bridge.server.metric("tusfs_server_bytes_received_total")
        #expect(received <= Double(size) + Self.chunk, "received \(received) bytes for a \(size)-byte file")
        #expect(bridge.daemonLog.contains("waiting for chunks in flight") || receivedAtUnmount == 0, "\(bridge.daemonLog.suffix(2000))")
    }

    @Test func killDuringAThousandFileRsyncLosesAndDuplicatesNothing() async throws {
        let source = try TemporaryDirectory("crash-many-source")
        defer { source.remove() }
        let total = try Self.smallFiles(1000, at: source.appending("tree"))
        let bridge = try UploadBridgeFixture("crash-many", mountArguments: ["--write-back", "0"])
        defer { bridge.cleanup() }

        let rsync = Process()
        rsync.executableURL = URL(fileURLWithPath: "/usr/bin/rsync")
        rsync.arguments = ["-a", source.appending("tree") + "/", bridge.mount.path("tree") + "/"]
        rsync.standardOutput = FileHandle.nullDevice
        rsync.standardError = FileHandle.nullDevice
        try rsync.run()
        // Kill while rsync is still writing, or at least while uploads are running.
        _ = await UploadBridgeFixture.eventually(timeout: 60) {
            let written = (FileManager.default.enumerator(atPath: bridge.mount.backingPath("tree"))?.allObjects.count) ?? 0
            return written >= 400 || !rsync.isRunning
        }
        try bridge.killDaemon()
        rsync.waitUntilExit()

        try bridge.mount.mount()
        // As after any interrupted copy: run it again (--delete drops a temp file the killed rsync left).
        let again = try ProcessRunner.run("rsync", ["-a", "--delete", source.appending("tree") + "/", bridge.mount.path("tree") + "/"])
        #expect(again.succeeded, "\(again.stderr)")
        let wait = try bridge.wait(timeout: 300)
        #expect(wait.status == 0, "\(wait.stderr)\n\(bridge.daemonLog.suffix(3000))")
        try await UploadBridgeTests.expectServiceMirrors(source.appending("tree"), bridge, under: "tree/")
        let received = try await bridge.server.metric("tusfs_server_bytes_received_total")
        #expect(received <= Double(total) + Self.chunk, "received \(received) bytes for \(total) bytes of files")
    }

    @Test func failuresAndDroppedConnectionsEndReadyWithErrorsVisibleMeanwhile() async throws {
        let source = try TemporaryDirectory("faults-source")
        defer { source.remove() }
        _ = try Self.smallFiles(500, at: source.appending("tree"))
        // One upload in ten answered 503, and every upload's first request cut after 3,000 bytes.
        let bridge = try UploadBridgeFixture("faults", serveArguments: ["--fail-rate", "0.1", "--drop-after-bytes", "3000"])
        defer { bridge.cleanup() }

        let rsync = try ProcessRunner.run("rsync", ["-a", source.appending("tree") + "/", bridge.mount.path("tree") + "/"])
        #expect(rsync.succeeded, "\(rsync.stderr)")
        // While retries run, status.json shows failed files with the service's error and a next attempt.
        let sawRetrying = await UploadBridgeFixture.eventually(timeout: 60) {
            guard let data = FileManager.default.contents(atPath: bridge.mount.path(".tusfs/status.json")),
                let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let files = document["files"] as? [[String: Any]]
            else { return false }
            return files.contains {
                $0["state"] as? String == "failed" && ($0["error"] as? String)?.isEmpty == false && $0["next_attempt"] is String
            }
        }
        #expect(sawRetrying, "never saw a failed file waiting for its retry")
        let wait = try bridge.wait(timeout: 600)
        #expect(wait.status == 0, "\(wait.stderr)\n\(bridge.daemonLog.suffix(3000))")
        try await UploadBridgeTests.expectServiceMirrors(source.appending("tree"), bridge, under: "tree/")
    }

    /// A file that reached the cache while no daemon ran (its events lost with a crash) is found at the next
    /// mount and uploaded; one changed behind an uploaded record is uploaded again.
    @Test func filesChangedWhileNoDaemonRanAreFoundAtTheNextMount() async throws {
        let bridge = try UploadBridgeFixture("reconcile")
        defer { bridge.cleanup() }
        try Data("first\n".utf8).write(to: URL(fileURLWithPath: bridge.mount.path("kept.txt")))
        #expect(try bridge.wait(timeout: 60).status == 0)
        try bridge.mount.unmount()
        try Data("found later\n".utf8).write(to: URL(fileURLWithPath: bridge.mount.backingPath("new.txt")))
        try Data("changed while unmounted\n".utf8).write(to: URL(fileURLWithPath: bridge.mount.backingPath("kept.txt")))
        try bridge.mount.mount()
        let wait = try bridge.wait(timeout: 60)
        #expect(wait.status == 0, "\(wait.stderr)")
        let contents = try await bridge.contents()
        #expect(Set(contents.files.keys) == ["kept.txt", "new.txt"])
        if let kept = contents.files["kept.txt"], let new = contents.files["new.txt"] {
            #expect(try await ServiceContents.download(kept) == Data("changed while unmounted\n".utf8))
            #expect(try await ServiceContents.download(new) == Data("found later\n".utf8))
        }
        #expect(try await bridge.trashCount() == 1, "the first version of kept.txt goes to the trash")
    }

    @Test func aFileFailedForGoodIsRetriedWithSetfattr() async throws {
        let bridge = try UploadBridgeFixture("retry", serveArguments: ["--processing-failure-rate", "1"])
        defer { bridge.cleanup() }
        try Data("try me again\n".utf8).write(to: URL(fileURLWithPath: bridge.mount.path("note.txt")))
        let failed = try bridge.wait(timeout: 60)
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(try bridge.status("note.txt") == "failed")
        #expect(try bridge.status("note.txt", "error")?.contains("processing failed") == true)
        let sidecar = try String(contentsOfFile: bridge.mount.path("note.txt.tusfs.json"), encoding: .utf8)
        #expect(sidecar.contains("\"state\" : \"failed\""), "\(sidecar)")

        // The service is fixed; the user asks for a retry.
        try bridge.restartServer()
        let retry = try ProcessRunner.run("setfattr", ["-n", "user.tusfs.retry", "-v", "1", bridge.mount.path("note.txt")])
        #expect(retry.succeeded, "\(retry.stderr)")
        // The retry is applied a moment later; until then the file is still failed for good, which `tusfs wait`
        // counts as settled.
        #expect(await UploadBridgeFixture.eventually { (try? bridge.status("note.txt")) != "failed" }, "the retry starts")
        let wait = try bridge.wait(timeout: 60)
        #expect(wait.status == 0, "\(wait.stderr)")
        #expect(try bridge.status("note.txt") == "ready")
        let contents = try await bridge.contents()
        #expect(Array(contents.files.keys) == ["note.txt"])
        if let file = contents.files["note.txt"] {
            #expect(try await ServiceContents.download(file) == Data("try me again\n".utf8))
        }
        // The refused copy went to the trash when the retry replaced it.
        #expect(try await bridge.trashCount() == 1)
    }
}
