import Foundation
import Synchronization
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `tusfs status`, `tusfs wait` and `tusfs unmount --wait`. They only read `ROOT/.tusfs/status.json`, so most
/// tests run them against a plain directory holding a status document written here; one test uses a real mount.
@Suite("tusfs status and wait", .serialized)
struct StatusCommandTests {
    /// One entry of the hand-written status document.
    struct Record {
        var path: String
        var state: String
        var size: Int64 = 1000
        var uploaded: Int64 = 0
        var error: String? = nil
        var nextAttempt: String? = nil
    }

    /// A directory that looks like a mount to the commands: `.tusfs/status.json` plus the files themselves.
    struct FakeMount {
        let workspace: TemporaryDirectory
        var root: String { workspace.path }

        init(_ prefix: String) throws {
            workspace = try TemporaryDirectory(prefix)
            try FileManager.default.createDirectory(atPath: root + "/.tusfs", withIntermediateDirectories: true)
        }

        func path(_ relative: String) -> String { root + "/" + relative }

        /// Creates the regular file `relative` (and its directories).
        func createFile(_ relative: String) throws {
            let path = path(relative)
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data("content".utf8).write(to: URL(fileURLWithPath: path))
        }

        /// Writes the status document atomically (a temp file renamed over it), as a reader must never see half.
        func writeStatus(_ records: [Record], throughput: Double = 0) throws {
            var totals: [String: Int] = [:]
            for state in ["local", "pending", "uploading", "finalizing", "processing", "ready", "failed"] { totals[state] = 0 }
            var pending: Int64 = 0
            var files: [[String: Any]] = []
            for record in records {
                totals[record.state, default: 0] += 1
                if ["local", "pending", "uploading", "failed"].contains(record.state) { pending += record.size - record.uploaded }
                var file: [String: Any] = [
                    "path": record.path, "state": record.state, "size": record.size, "uploaded": record.uploaded,
                    "progress": "\(record.uploaded)/\(record.size)", "attempts": record.error == nil ? 0 : 1,
                    "updated": "2025-01-01T12:00:00Z",
                ]
                if let error = record.error { file["error"] = error }
                if let next = record.nextAttempt { file["next_attempt"] = next }
                if record.state == "ready" {
                    file["remote_id"] = "id-\(record.path)"
                    file["url"] = "https://media.example/\(record.path)"
                }
                files.append(file)
            }
            let document: [String: Any] = [
                "totals": totals, "files_total": records.count, "bytes_pending": pending, "throughput": throughput,
                "files": files,
            ]
            let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted])
            let temporary = root + "/.tusfs/status.json.tmp"
            try data.write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, root + "/.tusfs/status.json") == 0 else { throw TestFailure("rename: errno \(errno)") }
        }

        func remove() { workspace.remove() }
    }

    /// Runs the fake mount test `body` and removes the directory whatever happens.
    func withFakeMount(_ prefix: String, _ body: (FakeMount) throws -> Void) throws {
        let mount = try FakeMount(prefix)
        defer { mount.remove() }
        try body(mount)
    }

    func tusfs(_ arguments: [String], in directory: String? = nil) throws -> ProcessResult {
        try ProcessRunner.run(ProcessRunner.tusfsExecutable, arguments, currentDirectory: directory)
    }

    func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any], sourceLocation: sourceLocation)
    }

    func paths(_ document: [String: Any]) -> [String] {
        ((document["files"] as? [[String: Any]]) ?? []).compactMap { $0["path"] as? String }
    }

    /// A file and a directory tree with one file in each state that matters.
    func standardTree(_ mount: FakeMount) throws {
        for path in ["a.txt", "dir/b.mov", "dir/c.txt", "other/d.txt"] { try mount.createFile(path) }
        try mount.writeStatus(
            [
                Record(path: "dir/c.txt", state: "failed", error: "connection refused"),
                Record(path: "a.txt", state: "ready", uploaded: 1000),
                Record(path: "dir/b.mov", state: "uploading", size: 10 * 1024 * 1024, uploaded: 5 * 1024 * 1024),
                Record(path: "other/d.txt", state: "pending"),
            ], throughput: 2048)
    }

    // MARK: status

    @Test func statusTableListsFilesStatesAndTotals() throws {
        try withFakeMount("status-table") { mount in
            try standardTree(mount)
            let result = try tusfs(["status"], in: mount.root)
            #expect(result.succeeded, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 6, "\(result.stdout)")
            #expect(lines.first?.hasPrefix("STATE") == true)
            // Sorted by path, relative to the current directory.
            let rows = lines.dropFirst().prefix(4)
            #expect(rows.map { $0.split(separator: " ").first.map(String.init) ?? "" } == ["ready", "uploading", "failed", "pending"])
            #expect(rows.map { $0.contains("a.txt") } == [true, false, false, false])
            let uploading = try #require(rows.first { $0.hasPrefix("uploading") })
            #expect(uploading.contains(" 50%") && uploading.contains("5.0 MiB/10.0 MiB") && uploading.contains("dir/b.mov"))
            let failed = try #require(rows.first { $0.hasPrefix("failed") })
            #expect(failed.contains("dir/c.txt") && failed.contains("connection refused"))
            #expect(lines.last == "4 files (1 pending, 1 uploading, 1 ready, 1 failed), 5.0 MiB pending, 2.0 KiB/s")

            // From a subdirectory with no PATH: only the files under it, paths relative to it.
            let below = try tusfs(["status"], in: mount.path("dir"))
            #expect(below.succeeded, "\(below.stderr)")
            let belowLines = below.stdout.split(separator: "\n")
            #expect(belowLines.count == 4, "\(below.stdout)")
            #expect(belowLines[1].hasSuffix("b.mov") && !belowLines[1].contains("dir/"))
            #expect(belowLines.last?.hasPrefix("2 files (1 uploading, 1 failed)") == true)
        }
    }

    @Test func statusJSONFiltersByFileAndByDirectory() throws {
        try withFakeMount("status-json") { mount in
            try standardTree(mount)
            let file = try json(try tusfs(["status", "--json", mount.path("dir/b.mov")]).stdout)
            #expect(paths(file) == ["dir/b.mov"])
            #expect(file["files_total"] as? Int == 1)
            #expect((file["totals"] as? [String: Int])?["uploading"] == 1)
            #expect((file["totals"] as? [String: Int])?["ready"] == 0)
            #expect(file["bytes_pending"] as? Int == 5 * 1024 * 1024)

            let directory = try json(try tusfs(["status", "--json", "dir"], in: mount.root).stdout)
            #expect(paths(directory) == ["dir/b.mov", "dir/c.txt"])
            #expect(directory["files_total"] as? Int == 2)
            #expect((directory["totals"] as? [String: Int])?["failed"] == 1)
            #expect(directory["bytes_pending"] as? Int == 5 * 1024 * 1024 + 1000)
            let failed = try #require((directory["files"] as? [[String: Any]])?.last)
            #expect(failed["error"] as? String == "connection refused")

            // Two paths: the union; the root: everything.
            let both = try json(try tusfs(["status", "--json", mount.path("a.txt"), mount.path("other")]).stdout)
            #expect(paths(both) == ["a.txt", "other/d.txt"])
            let all = try json(try tusfs(["status", "--json", mount.root]).stdout)
            #expect(paths(all) == ["a.txt", "dir/b.mov", "dir/c.txt", "other/d.txt"])
            #expect(all["files_total"] as? Int == 4)
        }
    }

    @Test func statusOfAMissingPathOrOutsideAMountIsOneLine() throws {
        try withFakeMount("status-missing") { mount in
            try standardTree(mount)
            let missing = try tusfs(["status", mount.path("dir/nothing.txt")])
            expectOneLineError(missing, mentioning: "nothing.txt does not exist")
        }
        let outside = try TemporaryDirectory("status-outside")
        defer { outside.remove() }
        expectOneLineError(try tusfs(["status", outside.path]), mentioning: "is not inside a tusfs mount")
    }

    // MARK: wait

    @Test func waitExitsZeroWhenEveryFileIsReady() throws {
        try withFakeMount("wait-ready") { mount in
            try mount.createFile("a.txt")
            try mount.createFile("dir/b.txt")
            try mount.writeStatus([
                Record(path: "a.txt", state: "ready", uploaded: 1000), Record(path: "dir/b.txt", state: "ready", uploaded: 1000),
                Record(path: "other.txt", state: "uploading"),
            ])
            // The uploading file is elsewhere: waiting for a.txt and dir/ is done at once.
            let result = try tusfs(["wait", "a.txt", "dir", "--timeout", "20"], in: mount.root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.isEmpty && result.stdout.isEmpty)
        }
    }

    @Test func waitExitsOneAndNamesFilesFailedForGood() throws {
        try withFakeMount("wait-failed") { mount in
            try mount.createFile("a.txt")
            try mount.createFile("b.txt")
            try mount.writeStatus([
                Record(path: "a.txt", state: "ready", uploaded: 1000),
                Record(path: "b.txt", state: "failed", error: "the service said 403: quota exceeded"),
            ])
            let result = try tusfs(["wait", "--timeout", "20"], in: mount.root)
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr == "tusfs: b.txt: failed: the service said 403: quota exceeded\n")
        }
    }

    @Test func waitExitsTwoOnTimeoutWhileAFileIsStillMoving() throws {
        try withFakeMount("wait-timeout") { mount in
            try mount.createFile("a.txt")
            try mount.createFile("b.txt")
            // A failed file with a retry scheduled is still in progress, like an uploading one.
            try mount.writeStatus([
                Record(path: "a.txt", state: "uploading", uploaded: 400),
                Record(path: "b.txt", state: "failed", error: "connection reset", nextAttempt: "2099-01-01T00:00:00Z"),
            ])
            let result = try tusfs(["wait", mount.root, "--timeout", "0.5"])
            #expect(result.status == 2, "\(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(result.stderr)")
            #expect(result.stderr.contains("timed out after 0.5 s: 2 of 2 files not ready"), "\(result.stderr)")
            #expect(result.stderr.contains("a.txt (uploading 40%)") && result.stderr.contains("b.txt (failed, retry scheduled)"))
        }
    }

    @Test func waitSeesAFileBecomeReady() throws {
        try withFakeMount("wait-becomes-ready") { mount in
            try mount.createFile("a.txt")
            try mount.createFile("late.txt")
            // late.txt exists but has no record yet (the engine lags behind `cp`): it is waited for too.
            try mount.writeStatus([Record(path: "a.txt", state: "uploading", uploaded: 100)])
            let rewrite = DispatchGroup()
            DispatchQueue.global().async(group: rewrite) {
                Thread.sleep(forTimeInterval: 0.6)
                try? mount.writeStatus([Record(path: "a.txt", state: "processing", uploaded: 1000)])
                Thread.sleep(forTimeInterval: 0.6)
                try? mount.writeStatus([
                    Record(path: "a.txt", state: "ready", uploaded: 1000), Record(path: "late.txt", state: "ready", uploaded: 1000),
                ])
            }
            defer { rewrite.wait() }
            let result = try tusfs(["wait", "--timeout", "30", "--interval", "0.05"], in: mount.root)
            rewrite.wait()
            #expect(result.status == 0, "\(result.stderr)")
            // It only ended once both were ready: the status document says so now.
            let status = try json(try tusfs(["status", "--json"], in: mount.root).stdout)
            #expect((status["totals"] as? [String: Int])?["ready"] == 2)
        }
    }

    @Test func waitForAFileWithNoRecordTimesOut() throws {
        try withFakeMount("wait-unrecorded") { mount in
            try mount.createFile("fresh.txt")
            try mount.writeStatus([])
            let result = try tusfs(["wait", mount.path("fresh.txt"), "--timeout", "0.3"])
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.contains("fresh.txt (no upload record yet)"), "\(result.stderr)")
        }
    }

    @Test func waitOnAnEmptyDirectoryIsDone() throws {
        try withFakeMount("wait-empty") { mount in
            try FileManager.default.createDirectory(atPath: mount.path("empty"), withIntermediateDirectories: true)
            try mount.writeStatus([Record(path: "elsewhere.txt", state: "uploading")])
            let result = try tusfs(["wait", mount.path("empty"), "--timeout", "20"])
            #expect(result.status == 0, "\(result.stderr)")
        }
    }

    @Test func waitCannotWaitForAMissingPathOrOutsideAMount() throws {
        try withFakeMount("wait-missing") { mount in
            try mount.writeStatus([])
            let missing = try tusfs(["wait", mount.path("missing.txt"), "--timeout", "20"])
            #expect(missing.status == 3)
            expectOneLineError(missing, mentioning: "missing.txt does not exist")
            let missingDirectory = try tusfs(["wait", mount.path("no/such/dir/file"), "--timeout", "20"])
            #expect(missingDirectory.status == 3)
            expectOneLineError(missingDirectory, mentioning: "file does not exist")
        }
        let outside = try TemporaryDirectory("wait-outside")
        defer { outside.remove() }
        let result = try tusfs(["wait", "--timeout", "20"], in: outside.path)
        #expect(result.status == 3)
        expectOneLineError(result, mentioning: "is not inside a tusfs mount")
    }

    // MARK: a real mount

    /// On a real mount (embedded service): `status --json` lists a written file, and `unmount --wait` only
    /// unmounts once nothing is left to send, so after a remount the file is no longer pending or uploading.
    @Test func statusWaitAndUnmountWaitOnARealMount() throws {
        try withTusfsMount("status-mount", extraArguments: ["--write-back", "5"]) { mount in
            let empty = try tusfs(["status", mount.mountpoint, "--json"])
            #expect(empty.succeeded, "\(empty.stderr)")
            #expect(try json(empty.stdout)["files_total"] as? Int == 0)
            #expect(try tusfs(["wait", mount.mountpoint, "--timeout", "5"]).status == 0)

            try Data(repeating: 7, count: 3 << 20).write(to: URL(fileURLWithPath: mount.path("clip.bin")))
            let listed = try tusfs(["status", mount.path("clip.bin"), "--json"])
            let files = try json(listed.stdout)["files"] as? [[String: Any]]
            #expect(files?.first?["path"] as? String == "clip.bin", "\(listed.stdout)")
            #expect(["local", "pending"].contains(files?.first?["state"] as? String ?? ""), "\(listed.stdout)")

            let unmounted = try tusfs(["unmount", mount.mountpoint, "--wait", "--wait-timeout", "60"])
            #expect(unmounted.succeeded, "\(unmounted.stderr)")
            #expect(!MountTable.isMountPoint(mount.mountpoint))
            try mount.mount()
            let after = try tusfs(["status", mount.path("clip.bin"), "--json"])
            let state = (try json(after.stdout)["files"] as? [[String: Any]])?.first?["state"] as? String
            #expect(state == "processing" || state == "ready", "\(after.stdout)")
        }
    }

    /// `tusfs wait DIR` on a real mount checks DIR's `user.tusfs.summary`; a file it found at the start and that
    /// is removed before its upload leaves the totals one file short for good, and only the once-a-second read of
    /// `status.json` sees it is gone. Without that read the wait would only end at its timeout (where its last
    /// full read finds everything settled and exits 0, hence the check that it ended well before).
    @Test func waitOnARealMountEndsWhenAFileItFoundIsRemovedBeforeItsUpload() throws {
        try withTusfsMount("wait-removed", extraArguments: ["--write-back", "2"]) { mount in
            try FileManager.default.createDirectory(atPath: mount.path("dir"), withIntermediateDirectories: true)
            try Data("kept".utf8).write(to: URL(fileURLWithPath: mount.path("dir/kept.txt")))
            try Data("gone".utf8).write(to: URL(fileURLWithPath: mount.path("dir/gone.txt")))
            let waited = Mutex<Result<ProcessResult, any Error>?>(nil)
            let waiting = DispatchGroup()
            let arguments = ["wait", mount.path("dir"), "--timeout", "40"]
            let started = ContinuousClock.now
            DispatchQueue.global().async(group: waiting) {
                let result = Result { try ProcessRunner.run(ProcessRunner.tusfsExecutable, arguments) }
                waited.withLock { $0 = result }
            }
            Thread.sleep(forTimeInterval: 0.5)  // the wait has found both files; neither is uploaded yet
            try FileManager.default.removeItem(atPath: mount.path("dir/gone.txt"))
            waiting.wait()
            let waitedFor = ContinuousClock.now - started
            let result = try #require(try waited.withLock { $0 }?.get())
            #expect(result.status == 0, "\(result.stderr)")
            #expect(waitedFor < .seconds(30), "tusfs wait ran into its timeout: \(waitedFor)")
            let summary = try json(try ProcessRunner.run("getfattr", ["--only-values", "-n", "user.tusfs.summary", mount.path("dir")]).stdout)
            #expect(summary["files"] as? Int == 1, "\(summary)")
            #expect((summary["totals"] as? [String: Int])?["ready"] == 1, "\(summary)")
        }
    }

    /// One line on stderr, starting with "Error:", and a non-zero exit.
    func expectOneLineError(_ result: ProcessResult, mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!result.succeeded, sourceLocation: sourceLocation)
        #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("Error:") && result.stderr.contains(text), "stderr: \(result.stderr)",
            sourceLocation: sourceLocation)
    }
}
