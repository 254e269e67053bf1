import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The bounded cache: files the service holds are evicted (data gone, file kept) and read back when opened.
@Suite(.serialized)
struct CacheEvictionTests {
    static func status(_ path: String) throws -> stat {
        var attributes = stat()
        guard lstat(path, &attributes) == 0 else { throw TestFailure("stat \(path): errno \(errno)") }
        return attributes
    }

    /// Whether the file at `path` has no data block left (SEEK_DATA finds none): unlike `st_blocks`, not
    /// misled by the block ext4 may keep for extended attributes.
    static func holdsNoData(_ path: String) throws -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw TestFailure("open \(path): errno \(errno)") }
        defer { close(descriptor) }
        let seekData: Int32 = 3  // SEEK_DATA (Linux), not exported to Swift
        return lseek(descriptor, 0, seekData) < 0 && errno == ENXIO
    }

    static func cache(_ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["cache"] + arguments)
    }

    /// An evicted file keeps everything `ls`, `stat`, `find` and `rsync -a` look at, frees its blocks, says
    /// `user.tusfs.cached: no`, and reads back byte for byte (`cat`, `sha256sum`, an `mmap`), after which it
    /// is whole in the cache again.
    @Test func anEvictedFileStaysListedAndReadsBackWhole() async throws {
        let bridge = try UploadBridgeFixture("cache-evict")
        defer { bridge.cleanup() }
        let source = try TemporaryDirectory("cache-evict-source")
        defer { source.remove() }
        let small = try TestFiles.make(source.appending("small.bin"), size: 300_000, seed: 1)
        try MixedTree.largeFile(source.appending("large.bin"), size: 24 << 20)
        // Smaller than a block: its one block is freed too (a hole ending at the end of the file only zeroed it).
        let tiny = try TestFiles.make(source.appending("tiny.bin"), size: 100, seed: 2)
        let copy = try ProcessRunner.run(
            "cp", ["-a", source.appending("small.bin"), source.appending("large.bin"), source.appending("tiny.bin"), bridge.mount.mountpoint])
        try #require(copy.succeeded, "\(copy.stderr)")
        let tag = try ProcessRunner.run("setfattr", ["-n", "user.colour", "-v", "blue", bridge.mount.path("small.bin")])
        #expect(tag.succeeded, "\(tag.stderr)")
        #expect(try bridge.wait(timeout: 120).status == 0)
        #expect(try bridge.status("small.bin", "cached") == "yes")

        let before = try Self.status(bridge.mount.path("small.bin"))
        let evict = try Self.cache(["evict", bridge.mount.mountpoint])
        #expect(evict.succeeded, "\(evict.stderr)")
        for name in ["small.bin", "large.bin", "tiny.bin"] {
            #expect(try bridge.status(name, "cached") == "no", "\(name)")
            #expect(try Self.holdsNoData(bridge.mount.backingPath(name)), "\(name)'s cache file still holds data")
            // At most the block of its extended attributes (ext4 keeps those that do not fit the inode in one).
            #expect(try Self.status(bridge.mount.path(name)).st_blocks * 512 <= 4096, "\(name) still holds blocks")
            #expect(try Self.status(bridge.mount.backingPath(name)).st_blocks * 512 <= 4096, "\(name)'s cache file still holds blocks")
        }
        let after = try Self.status(bridge.mount.path("small.bin"))
        #expect(after.st_size == before.st_size && after.st_mode == before.st_mode && after.st_ino == before.st_ino)
        #expect(after.st_uid == before.st_uid && after.st_gid == before.st_gid)
        #expect(after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec)
        #expect(try bridge.status("small.bin") == "ready")
        // `tusfs status` says so in a CACHED column, and in its JSON.
        let table = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["status", bridge.mount.mountpoint])
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.contains("CACHED") == true, "\(table.stdout)")
        let row = lines.first { $0.hasSuffix("small.bin") } ?? ""
        #expect(row.split(separator: " ", omittingEmptySubsequences: true).dropLast().last == "no", "\(table.stdout)")
        let json = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["status", "--json", bridge.mount.path("small.bin")])
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let files = document?["files"] as? [[String: Any]] ?? []
        #expect(files.first?["cached"] as? String == "no", "\(json.stdout)")
        let colour = try ProcessRunner.run("getfattr", ["--only-values", "-n", "user.colour", bridge.mount.path("small.bin")])
        #expect(colour.stdout == "blue")

        // Looking, listing and comparing by size and time fetch nothing.
        _ = try ProcessRunner.run("ls", ["-laR", bridge.mount.mountpoint])
        _ = try ProcessRunner.run("find", [bridge.mount.mountpoint, "-type", "f", "-size", "+1k"])
        let rsync = try ProcessRunner.run("rsync", ["-a", "--itemize-changes", source.path + "/", bridge.mount.mountpoint + "/"])
        #expect(rsync.succeeded, "\(rsync.stderr)")
        let transferred = rsync.stdout.split(separator: "\n").filter { $0.hasPrefix(">f") || $0.hasPrefix("cf") }
        #expect(transferred.isEmpty, "rsync found differences: \(rsync.stdout)")
        #expect(try bridge.status("small.bin", "cached") == "no")
        #expect(try bridge.status("large.bin", "cached") == "no")

        // Reading brings the exact bytes back.
        #expect(try Data(contentsOf: URL(fileURLWithPath: bridge.mount.path("small.bin"))) == small)
        #expect(try Data(contentsOf: URL(fileURLWithPath: bridge.mount.path("tiny.bin"))) == tiny)
        // The reader may have had the last byte a moment before the read-back is checked and marked whole.
        let whole = await UploadBridgeFixture.eventually(timeout: 20) { (try? bridge.status("small.bin", "cached")) == "yes" }
        #expect(whole, "\(String(describing: try? bridge.status("small.bin", "cached")))")
        #expect(try Self.status(bridge.mount.path("small.bin")).st_blocks > 0)
        let sums = try ProcessRunner.run("sha256sum", [source.appending("large.bin"), bridge.mount.path("large.bin")])
        let digests = sums.stdout.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(digests.count == 2 && digests[0] == digests[1], "\(sums.stdout)")

        // An mmap reader of an evicted file sees the exact bytes too.
        #expect(try Self.cache(["evict", bridge.mount.path("large.bin")]).succeeded)
        let mapped = try ProcessRunner.run(
            "python3",
            ["-c", "import mmap,hashlib,sys\nf=open(sys.argv[1],'rb')\nm=mmap.mmap(f.fileno(),0,prot=mmap.PROT_READ)\nprint(hashlib.sha256(m).hexdigest())",
             bridge.mount.path("large.bin")])
        #expect(mapped.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == digests.first, "\(mapped.stderr)")

        // The file is the same after a remount, read from the cache.
        try bridge.mount.unmount()
        try bridge.mount.mount()
        #expect(try TreeComparison.sameBytes(source.appending("large.bin"), bridge.mount.path("large.bin")))
        #expect(await UploadBridgeFixture.eventually(timeout: 30) { (try? bridge.status("large.bin", "cached")) == "yes" })
    }

    /// Opening an evicted file for writing without O_TRUNC reads it back first (an append keeps what was
    /// there); with O_TRUNC nothing is fetched. Both files upload again.
    @Test func writingToAnEvictedFileKeepsItsContents() async throws {
        let bridge = try UploadBridgeFixture("cache-write")
        defer { bridge.cleanup() }
        let first = Data(repeating: 0x61, count: 200_000)
        try first.write(to: URL(fileURLWithPath: bridge.mount.path("append.txt")))
        try first.write(to: URL(fileURLWithPath: bridge.mount.path("replace.txt")))
        let varied = try TestFiles.make(bridge.mount.path("shorten.bin"), size: 300_000, seed: 3)
        #expect(try bridge.wait(timeout: 60).status == 0)
        #expect(try Self.cache(["evict", bridge.mount.mountpoint]).succeeded)
        #expect(try bridge.status("append.txt", "cached") == "no")

        let append = try ProcessRunner.run("bash", ["-c", "printf 'more' >> \"$1\"", "bash", bridge.mount.path("append.txt")])
        #expect(append.succeeded, "\(append.stderr)")
        let replace = try ProcessRunner.run("bash", ["-c", "printf 'new' > \"$1\"", "bash", bridge.mount.path("replace.txt")])
        #expect(replace.succeeded, "\(replace.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: bridge.mount.path("append.txt"))) == first + Data("more".utf8))
        #expect(try Data(contentsOf: URL(fileURLWithPath: bridge.mount.path("replace.txt"))) == Data("new".utf8))
        // A new modification time alone reads the file back first: a file modified after its upload is sent
        // again (at the next mount), and must be whole by then.
        #expect(try Self.cache(["evict", bridge.mount.path("shorten.bin")]).succeeded)
        #expect(try ProcessRunner.run("touch", ["-m", "-d", "2020-01-01", bridge.mount.path("shorten.bin")]).succeeded)
        #expect(try bridge.status("shorten.bin", "cached") == "yes")
        // touch opened the file for writing: it is sent again, and evicted once the service holds it as it is.
        #expect(try await UploadBridgeFixture.eventually(timeout: 30) { try Self.cache(["evict", bridge.mount.path("shorten.bin")]).status == 0 })
        // A truncate by path to a shorter, non-zero size keeps the bytes before the cut.
        #expect(try ProcessRunner.run("truncate", ["-s", "1000", bridge.mount.path("shorten.bin")]).succeeded)
        #expect(try Data(contentsOf: URL(fileURLWithPath: bridge.mount.path("shorten.bin"))) == varied.prefix(1000))
        #expect(try bridge.wait(timeout: 60).status == 0)
        let contents = try await bridge.contents()
        #expect(try await ServiceContents.download(try #require(contents.files["append.txt"])) == first + Data("more".utf8))
        #expect(try await ServiceContents.download(try #require(contents.files["replace.txt"])) == Data("new".utf8))
    }

    /// A read-back that fails is EIO to the reader and says why in `user.tusfs.error`; never zeros, never a
    /// short file. Once the service is back, the same open reads the file.
    @Test func aFailedReadBackIsAnIOErrorWithAReason() async throws {
        let bridge = try UploadBridgeFixture("cache-eio")
        defer { bridge.cleanup() }
        let data = try TestFiles.make(bridge.mount.path("clip.bin"), size: 1_000_000, seed: 7)
        #expect(try bridge.wait(timeout: 60).status == 0)
        #expect(try Self.cache(["evict", bridge.mount.path("clip.bin")]).succeeded)
        bridge.stopServer()
        let cat = try ProcessRunner.run("cat", [bridge.mount.path("clip.bin")])
        #expect(!cat.succeeded)
        #expect(cat.stderr.contains("Input/output error"), "\(cat.stderr)")
        #expect(cat.stdout.isEmpty)
        #expect(try bridge.status("clip.bin", "error")?.contains("cannot read the file back from the service") == true)
        #expect(try bridge.status("clip.bin", "cached") == "no")
        let fetch = try Self.cache(["fetch", bridge.mount.path("clip.bin")])
        #expect(fetch.status == 1)
        #expect(fetch.stderr.contains("cannot read it back from the service"), "\(fetch.stderr)")

        try bridge.startServer()
        #expect(try Self.cache(["fetch", bridge.mount.path("clip.bin")]).succeeded)
        #expect(try bridge.status("clip.bin", "cached") == "yes")
        #expect(try bridge.status("clip.bin", "error") == nil)
        #expect(try Data(contentsOf: URL(fileURLWithPath: bridge.mount.path("clip.bin"))) == data)
    }

    /// A copy that comes back with the right length but other bytes than the service's digest says is EIO:
    /// the reader never gets to the file's end (its last part is held until the whole body is checked), the
    /// reason is in `user.tusfs.error`, and the file stays evicted. What the reader got of that copy is not
    /// served again: once the service has the right bytes, the next open reads them all.
    @Test func aCopyUnlikeTheServicesHashIsAnIOErrorBeforeTheEnd() async throws {
        let bridge = try UploadBridgeFixture("cache-hash")
        defer { bridge.cleanup() }
        let size = 3_000_000
        let data = try TestFiles.make(bridge.mount.path("clip.bin"), size: size, seed: 11)
        #expect(try bridge.wait(timeout: 60).status == 0)
        #expect(try Self.cache(["evict", bridge.mount.path("clip.bin")]).succeeded)
        // The service's stored copy changes under it: one byte in the middle, same length.
        let stored = try #require(FileManager.default.enumerator(atPath: bridge.serviceData)?.compactMap { item -> String? in
            let path = bridge.serviceData + "/" + (item as! String)
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            return (attributes?[.size] as? NSNumber)?.intValue == size && attributes?[.type] as? FileAttributeType == .typeRegular
                ? path : nil
        }.first)
        let handle = try #require(FileHandle(forUpdatingAtPath: stored))
        try handle.seek(toOffset: UInt64(size / 2))
        let original = try #require(try handle.read(upToCount: 1))
        try handle.seek(toOffset: UInt64(size / 2))
        try handle.write(contentsOf: Data([original[0] ^ 0xFF]))
        try handle.close()

        let scratch = try TemporaryDirectory("cache-hash-out")
        defer { scratch.remove() }
        let copy = scratch.appending("copy")
        let cat = try ProcessRunner.run("sh", ["-c", "cat \"$0\" > \"$1\"", bridge.mount.path("clip.bin"), copy])
        #expect(!cat.succeeded)
        #expect(cat.stderr.contains("Input/output error"), "\(cat.stderr)")
        let copied = try #require(try FileManager.default.attributesOfItem(atPath: copy)[.size] as? NSNumber).intValue
        #expect(copied < size)
        #expect(try bridge.status("clip.bin", "error")?.contains("is not the file") == true)
        #expect(try bridge.status("clip.bin", "cached") == "no")

        // The service's copy is mended: the kernel must not keep the changed byte the first reader got.
        let mend = try #require(FileHandle(forUpdatingAtPath: stored))
        try mend.seek(toOffset: UInt64(size / 2))
        try mend.write(contentsOf: original)
        try mend.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: bridge.mount.path("clip.bin"))) == data)
        // The read-back's end is marked just after its last bytes are given out: `cache fetch` waits for it.
        #expect(try Self.cache(["fetch", bridge.mount.path("clip.bin")]).succeeded)
        #expect(try bridge.status("clip.bin", "cached") == "yes")
    }

    /// A file the service keeps private (refused at its plain URL) reads back through a download URL the
    /// mount has the service generate.
    @Test func aPrivateFileReadsBackThroughADownloadURL() async throws {
        let bridge = try UploadBridgeFixture("cache-private")
        defer { bridge.cleanup() }
        let data = try TestFiles.make(bridge.mount.path("secret.bin"), size: 2_000_000, seed: 11)
        #expect(try bridge.wait(timeout: 60).status == 0)
        let url = try #require(try bridge.status("secret.bin", "url"))
        // The service's owner makes the file private (the service is stopped while its database is changed).
        bridge.stopServer()
        let database = bridge.server.dataDirectory + "/media.sqlite"
        let update = try ProcessRunner.run(
            "python3", ["-c", "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute('UPDATE file SET isPrivate=1')\nc.commit()", database])
        try #require(update.succeeded, "\(update.stderr)")
        try bridge.startServer()
        let plain = try ProcessRunner.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", url])
        #expect(plain.stdout == "403", "the plain URL of a private file answered \(plain.stdout)")

        #expect(try Self.cache(["evict", bridge.mount.path("secret.bin")]).succeeded)
        #expect(try bridge.status("secret.bin", "cached") == "no")
        #expect(try Data(contentsOf: URL(fileURLWithPath: bridge.mount.path("secret.bin"))) == data)
        #expect(try bridge.status("secret.bin", "error") == nil)
        let whole = await UploadBridgeFixture.eventually(timeout: 20) { (try? bridge.status("secret.bin", "cached")) == "yes" }
        #expect(whole, "\(bridge.daemonLog.suffix(2000))")
    }

    /// Files not on the service yet, or open, are not evicted; `tusfs cache evict` says why for each.
    @Test func onlyFilesTheServiceHoldsAreEvicted() async throws {
        let bridge = try UploadBridgeFixture("cache-refuse", mountArguments: ["--write-back", "3600"])
        defer { bridge.cleanup() }
        try Data(repeating: 1, count: 100_000).write(to: URL(fileURLWithPath: bridge.mount.path("pending.bin")))
        let evict = try Self.cache(["evict", bridge.mount.path("pending.bin")])
        #expect(evict.status == 1)
        #expect(evict.stderr.contains("pending.bin"), "\(evict.stderr)")
        #expect(evict.stderr.contains("the service holds no READY copy of it"), "\(evict.stderr)")
        #expect(try bridge.status("pending.bin", "cached") == "yes")
        #expect(try Self.status(bridge.mount.backingPath("pending.bin")).st_blocks > 0)
        let missing = try Self.cache(["evict", bridge.mount.path("nothing-here")])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("No such file"), "\(missing.stderr)")
    }

    /// A file open elsewhere is not evicted; one whose last open closes while `tusfs cache evict` looks at it
    /// is (the kernel releases a file a moment after close(2) returns: the evict gives it a second).
    @Test func anOpenFileIsNotEvictedAndOneClosedMeanwhileIs() async throws {
        let bridge = try UploadBridgeFixture("cache-open")
        defer { bridge.cleanup() }
        for name in ["closing.bin", "held.bin"] {
            try Data(repeating: 2, count: 100_000).write(to: URL(fileURLWithPath: bridge.mount.path(name)))
        }
        #expect(try bridge.wait(timeout: 60).status == 0)
        let held = open(bridge.mount.path("held.bin"), O_RDONLY | O_CLOEXEC)
        let closing = open(bridge.mount.path("closing.bin"), O_RDONLY | O_CLOEXEC)
        try #require(held >= 0 && closing >= 0)
        // A thread of its own (not a task: the tests' blocking waits may hold every thread of the task pool).
        let closer = Thread {
            usleep(300_000)
            close(closing)
        }
        closer.start()
        let evict = try Self.cache(["evict", bridge.mount.path("closing.bin"), bridge.mount.path("held.bin")])
        close(held)
        #expect(evict.status == 1)
        #expect(evict.stderr.contains("held.bin") && evict.stderr.contains("open or just written"), "\(evict.stderr)")
        #expect(!evict.stderr.contains("closing.bin"), "\(evict.stderr)")
        #expect(try bridge.status("closing.bin", "cached") == "no")
        #expect(try bridge.status("held.bin", "cached") == "yes")
    }

    /// Kill -9 in the middle of a read-back leaves the file evicted (partly written, still marked): the next
    /// mount reads it back whole. Also when the kill comes at a random point of a batch of evictions.
    @Test func aKilledDaemonNeverServesAHalfFetchedOrHalfEvictedFile() async throws {
        let bridge = try UploadBridgeFixture("cache-crash")
        defer { bridge.cleanup() }
        let source = try TemporaryDirectory("cache-crash-source")
        defer { source.remove() }
        try MixedTree.largeFile(source.appending("big.bin"), size: 400 << 20)
        for index in 0..<100 { _ = try TestFiles.make(source.appending("small-\(index).bin"), size: 20_000 + index * 997, seed: UInt64(index)) }
        let copy = try ProcessRunner.run("cp", ["-a", source.path + "/.", bridge.mount.mountpoint])
        try #require(copy.succeeded, "\(copy.stderr)")
        #expect(try bridge.wait(timeout: 300).status == 0)
        #expect(try Self.cache(["evict", bridge.mount.path("big.bin")]).succeeded)

        // A reader starts the read-back of the big file; the daemon is killed while it is under way.
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/cat")
        reader.arguments = [bridge.mount.path("big.bin")]
        reader.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        reader.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try reader.run()
        let sawFetching = await UploadBridgeFixture.eventually(timeout: 20) {
            (try? bridge.status("big.bin", "cached"))?.hasPrefix("fetching") == true
        }
        #expect(sawFetching)
        try bridge.killDaemon()
        reader.waitUntilExit()

        // Evictions of many files, killed part-way.
        try bridge.mount.mount()
        let evictions = Process()
        evictions.executableURL = URL(fileURLWithPath: ProcessRunner.tusfsExecutable)
        evictions.arguments = ["cache", "evict"] + (0..<100).map { bridge.mount.path("small-\($0).bin") }
        evictions.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try evictions.run()
        try await Task.sleep(for: .milliseconds(30))
        try bridge.killDaemon()
        evictions.waitUntilExit()

        try bridge.mount.mount()
        let differences = try TreeComparison.differences(source.path, bridge.mount.mountpoint)
        #expect(differences.isEmpty, "\(differences.prefix(10))")
        #expect(await UploadBridgeFixture.eventually(timeout: 30) { (try? bridge.status("big.bin", "cached")) == "yes" })
    }
}
