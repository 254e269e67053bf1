import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Files copied into a real mount reach a real `tusfs serve`: compared by downloading them back.
@Suite("Uploading through the mount", .serialized)
struct UploadBridgeTests {
    /// Every regular file under `source` is READY on the service under the same path, with the same bytes,
    /// and the service holds nothing else (so no rsync temp name ever stayed there).
    static func expectServiceMirrors(_ source: String, _ bridge: UploadBridgeFixture, under prefix: String = "") async throws {
        let contents = try await bridge.contents()
        var expected: [String: String] = [:]  // service path → local file
        let enumerator = FileManager.default.enumerator(atPath: source)
        while let relative = enumerator?.nextObject() as? String {
            if enumerator?.fileAttributes?[.type] as? FileAttributeType == .typeRegular {
                expected[prefix + relative] = source + "/" + relative
            }
        }
        #expect(Set(contents.files.keys) == Set(expected.keys), "service: \(contents.files.keys.sorted().prefix(50))")
        for (path, local) in expected.sorted(by: { $0.key < $1.key }) {
            guard let file = contents.files[path] else { continue }
            #expect(file.operationStatus == "READY", "\(path): \(file.operationStatus ?? "nil")")
            let downloaded = try await ServiceContents.download(file)
            let same = downloaded == (try Data(contentsOf: URL(fileURLWithPath: local)))
            #expect(same, "\(path): downloaded \(downloaded.count) bytes differ from the local file")
        }
        let folders = Set(expected.keys.compactMap { path -> String? in
            path.lastIndex(of: "/").map { String(path[..<$0]) }
        })
        #expect(folders.isSubset(of: contents.folders), "missing folders: \(folders.subtracting(contents.folders).sorted())")
    }

    @Test func rsyncOfAMixedTreeEndsReadyAndIdenticalOnTheService() async throws {
        let source = try TemporaryDirectory("bridge-source")
        defer { source.remove() }
        try MixedTree.create(at: source.appending("tree"))
        // The 255-byte name is stored under a shortened name (FileNameMappingTests), not under its own.
        try FileManager.default.removeItem(atPath: source.appending("tree/" + String(repeating: "L", count: 251) + ".txt"))
        let bridge = try UploadBridgeFixture("bridge-rsync")
        defer { bridge.cleanup() }

        let rsync = try ProcessRunner.run("rsync", ["-a", source.appending("tree") + "/", bridge.mount.path("tree") + "/"])
        #expect(rsync.succeeded, "\(rsync.stderr)")
        let wait = try bridge.wait()
        #expect(wait.status == 0, "tusfs wait: \(wait.status) \(wait.stderr)\n\(bridge.daemonLog.suffix(3000))")
        try await Self.expectServiceMirrors(source.appending("tree"), bridge, under: "tree/")
        // Not even briefly: a temp file uploaded and then deleted would be in the trash.
        #expect(try await bridge.trashCount() == 0)

        // The three views of one file's state agree with each other and with the service.
        let contents = try await bridge.contents()
        let remote = try #require(contents.files["tree/docs/readme.txt"])
        #expect(try bridge.status("tree/docs/readme.txt") == "ready")
        #expect(try bridge.status("tree/docs/readme.txt", "remote_id") == remote.id)
        let sidecar = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: bridge.mount.path("tree/docs/readme.txt.tusfs.json")))) as? [String: Any]
        #expect(sidecar?["state"] as? String == "ready")
        #expect(sidecar?["remote_id"] as? String == remote.id)
        let status = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: bridge.mount.path(".tusfs/status.json")))) as? [String: Any]
        let entry = (status?["files"] as? [[String: Any]])?.first { $0["path"] as? String == "tree/docs/readme.txt" }
        #expect(entry?["state"] as? String == "ready")
        #expect(entry?["remote_id"] as? String == remote.id)
        #expect((status?["totals"] as? [String: Int])?["ready"] == contents.files.count)
        let dump = try ProcessRunner.run("getfattr", ["-d", bridge.mount.path("tree/docs/readme.txt")])
        #expect(dump.stdout.contains("user.tusfs.state=\"ready\""), "\(dump.stdout)")
        #expect(dump.stdout.contains("user.tusfs.url="), "\(dump.stdout)")
        // A directory's totals, by name: every file below it ready, its bytes all uploaded; not in `getfattr -d`.
        let summaryText = try ProcessRunner.run("getfattr", ["--only-values", "-n", "user.tusfs.summary", bridge.mount.path("tree")])
        #expect(summaryText.succeeded, "\(summaryText.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(summaryText.stdout.utf8)) as? [String: Any]
        let treeFiles = contents.files.filter { $0.key.hasPrefix("tree/") }
        #expect(summary?["files"] as? Int == treeFiles.count, "\(summaryText.stdout)")
        #expect((summary?["totals"] as? [String: Int])?["ready"] == treeFiles.count, "\(summaryText.stdout)")
        #expect(summary?["bytes_uploaded"] as? Int == summary?["bytes"] as? Int, "\(summaryText.stdout)")
        #expect(summary?["bytes"] as? Int == treeFiles.values.reduce(0) { $0 + Int($1.size ?? -1) }, "\(summaryText.stdout)")
        let docs = try ProcessRunner.run("getfattr", ["--only-values", "-n", "user.tusfs.summary", bridge.mount.path("tree/docs")])
        #expect(try JSONSerialization.jsonObject(with: Data(docs.stdout.utf8)) as? [String: Any] != nil, "\(docs.stdout)")
        #expect(!(try ProcessRunner.run("getfattr", ["-d", bridge.mount.path("tree")]).stdout.contains("summary")))

        // Nothing of the status surface shows up to tree walkers.
        let find = try ProcessRunner.run("find", [bridge.mount.mountpoint])
        #expect(!find.stdout.contains(".tusfs"), "\(find.stdout)")
    }

    @Test func overwriteDuringUploadEndsWithTheNewContentAndNoOrphan() async throws {
        // Every request is slowed down, so the upload of the first version is surely still running.
        let bridge = try UploadBridgeFixture("bridge-overwrite", serveArguments: ["--latency-ms", "400"], mountArguments: ["--write-back", "0"])
        defer { bridge.cleanup() }
        let first = try TemporaryDirectory("first")
        defer { first.remove() }
        try MixedTree.largeFile(first.appending("v1"), size: 24 << 20)
        try Data("the second version\n".utf8).write(to: URL(fileURLWithPath: first.appending("v2")))

        #expect(try ProcessRunner.run("cp", [first.appending("v1"), bridge.mount.path("video.bin")]).succeeded)
        let uploading = try await UploadBridgeFixture.eventually { try bridge.status("video.bin") == "uploading" }
        #expect(uploading, "never saw the upload of the first version running")
        #expect(try ProcessRunner.run("cp", [first.appending("v2"), bridge.mount.path("video.bin")]).succeeded)
        let wait = try bridge.wait()
        #expect(wait.status == 0, "tusfs wait: \(wait.stderr)")

        let contents = try await bridge.contents()
        #expect(Array(contents.files.keys) == ["video.bin"])
        if let file = contents.files["video.bin"] {
            #expect(try await ServiceContents.download(file) == Data("the second version\n".utf8))
        }
        #expect(try await bridge.trashCount() == 0, "the superseded upload became a file")
    }

    @Test func removeDuringUploadLeavesNothingOnTheService() async throws {
        let bridge = try UploadBridgeFixture("bridge-rm", serveArguments: ["--latency-ms", "400"], mountArguments: ["--write-back", "0"])
        defer { bridge.cleanup() }
        try MixedTree.largeFile(bridge.mount.path("big.bin"), size: 24 << 20)
        let uploading = try await UploadBridgeFixture.eventually { try bridge.status("big.bin") == "uploading" }
        #expect(uploading)
        try FileManager.default.removeItem(atPath: bridge.mount.path("big.bin"))
        let wait = try bridge.wait()
        #expect(wait.status == 0, "tusfs wait: \(wait.stderr)")
        // Give a late finalize a chance to show up before looking.
        try await Task.sleep(for: .seconds(2))
        #expect(try await bridge.contents().files.isEmpty)
        #expect(try await bridge.trashCount() == 0)
        let status = try Data(contentsOf: URL(fileURLWithPath: bridge.mount.path(".tusfs/status.json")))
        #expect(!String(decoding: status, as: UTF8.self).contains("big.bin"))
    }

    @Test func renameAfterReadyRenamesAndMovesRemotelyAndRemoveTrashes() async throws {
        let bridge = try UploadBridgeFixture("bridge-rename")
        defer { bridge.cleanup() }
        try Data("photo\n".utf8).write(to: URL(fileURLWithPath: bridge.mount.path("photo.jpg")))
        try Data("notes\n".utf8).write(to: URL(fileURLWithPath: bridge.mount.path("notes.txt")))
        #expect(try bridge.wait().status == 0)
        let before = try #require(try await bridge.contents().files["photo.jpg"])

        try FileManager.default.createDirectory(atPath: bridge.mount.path("albums/2026"), withIntermediateDirectories: true)
        #expect(rename(bridge.mount.path("photo.jpg"), bridge.mount.path("albums/2026/beach.jpg")) == 0)
        let moved = try await UploadBridgeFixture.eventually {
            try await bridge.contents().files["albums/2026/beach.jpg"]?.id == before.id
        }
        let now = try await bridge.contents().files.keys.sorted()
        #expect(moved, "service has \(now)")
        #expect(try await bridge.contents().files["photo.jpg"] == nil)
        #expect(try bridge.status("albums/2026/beach.jpg", "remote_id") == before.id)

        try FileManager.default.removeItem(atPath: bridge.mount.path("notes.txt"))
        let trashed = try await UploadBridgeFixture.eventually { try await bridge.trashCount() == 1 }
        #expect(trashed)
        #expect(try await bridge.contents().files["notes.txt"] == nil)
    }

    /// A file the service refuses for good fails with the service's message, and `tusfs wait` says so. (Names
    /// the service refuses are not such files any more: they get a remote name, see `FileNameMappingTests`.)
    @Test func aFileTheServiceRefusesFailsWithItsMessage() async throws {
        let bridge = try UploadBridgeFixture("bridge-refused", serveArguments: ["--max-upload-size", "1000"])
        defer { bridge.cleanup() }
        let name = "too-large.bin"
        try Data(repeating: 7, count: 2000).write(to: URL(fileURLWithPath: bridge.mount.path(name)))
        try Data("fine\n".utf8).write(to: URL(fileURLWithPath: bridge.mount.path("fine.txt")))
        let wait = try bridge.wait(timeout: 60)
        #expect(wait.status == 1, "\(wait.stderr)")
        #expect(wait.stderr.contains(name) && wait.stderr.contains("largest upload"), "\(wait.stderr)")
        #expect(try bridge.status(name) == "failed")
        #expect(try bridge.status(name, "error")?.contains("largest upload") == true)
        #expect(try bridge.status("fine.txt") == "ready")
    }

    @Test func embeddedServiceIsTheDefault() async throws {
        let source = try TemporaryDirectory("embedded-source")
        defer { source.remove() }
        try MixedTree.largeFile(source.appending("clip.bin"), size: 12 << 20)
        try await withTusfsMount("embedded", extraArguments: ["--write-back", "0.2"]) { mount in
            #expect(try ProcessRunner.run("cp", [source.appending("clip.bin"), mount.path("clip.bin")]).succeeded)
            let wait = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["wait", mount.mountpoint, "--timeout", "120"])
            #expect(wait.status == 0, "\(wait.stderr)")
            let url = try ProcessRunner.run("getfattr", ["--only-values", "-n", "user.tusfs.url", mount.path("clip.bin")])
            #expect(url.succeeded)
            let downloaded = try await HTTPTestClient.send("GET", try #require(URL(string: url.stdout)))
            let same = downloaded.body == (try Data(contentsOf: URL(fileURLWithPath: source.appending("clip.bin"))))
            #expect(downloaded.status == 200 && same)
            #expect(FileManager.default.fileExists(atPath: mount.cache + "/server"))
            #expect(FileManager.default.fileExists(atPath: mount.cache + "/journal.sqlite"))
        }
    }
}
