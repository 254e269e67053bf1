import Foundation
import Synchronization
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The cache's limits hold while far more than they allow is copied in: writers wait for uploads, files the
/// service holds are evicted, and everything reads back.
@Suite(.serialized)
struct CacheLimitTests {
    /// File data (allocated blocks) of the regular files under `root`, walked by `opendir`, tolerant of
    /// files and directories vanishing meanwhile (rsync's temporary files).
    static func dataBytes(under root: String) -> Int64 {
        guard let directory = opendir(root) else { return 0 }
        defer { closedir(directory) }
        var total: Int64 = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name == "." || name == ".." { continue }
            var attributes = stat()
            guard lstat(root + "/" + name, &attributes) == 0 else { continue }
            switch attributes.st_mode & S_IFMT {
            case S_IFREG: total += Int64(attributes.st_blocks) * 512
            case S_IFDIR: total += dataBytes(under: root + "/" + name)
            default: break
            }
        }
        return total
    }

    /// Samples `dataBytes(under:)` every 20 ms on a thread of its own until stopped; keeps the largest.
    final class Sampler: Sendable {
        let largest = Mutex<Int64>(0)
        let stopped = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)

        init(_ root: String) {
            Thread { [self] in
                while !stopped.load(ordering: .relaxed) {
                    let now = CacheLimitTests.dataBytes(under: root)
                    largest.withLock { $0 = max($0, now) }
                    usleep(20_000)
                }
                finished.signal()
            }.start()
        }

        func stop() -> Int64 {
            stopped.store(true, ordering: .relaxed)
            finished.wait()
            return largest.withLock { $0 }
        }
    }

    /// The value of `user.tusfs.cache` on the mount's root, as a dictionary.
    static func cacheSummary(_ bridge: UploadBridgeFixture) throws -> [String: Any] {
        let result = try ProcessRunner.run("getfattr", ["--only-values", "-n", "user.tusfs.cache", bridge.mount.mountpoint])
        guard result.succeeded, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        else { throw TestFailure("no user.tusfs.cache: \(result.stderr)") }
        return object
    }

    /// Every regular file under `source` has the same bytes at the same place under `copy`.
    static func sameFiles(_ source: String, _ copy: String) -> [String] {
        var problems: [String] = []
        let walker = FileManager.default.enumerator(atPath: source)
        while let relative = walker?.nextObject() as? String {
            var attributes = stat()
            guard lstat(source + "/" + relative, &attributes) == 0, attributes.st_mode & S_IFMT == S_IFREG else { continue }
            if !((try? TreeComparison.sameBytes(source + "/" + relative, copy + "/" + relative)) ?? false) {
                problems.append(relative)
            }
        }
        return problems
    }

    /// `--cache-max-size 64M`, about 300 MB of mixed files in by `cp -r` and `rsync -a`: sampled during the
    /// copy, the cache's file data never exceeds the limit by more than the largest file; every file uploads
    /// and reads back byte for byte, before and after a remount.
    @Test func aCappedCacheTakesFarMoreThanItsSize() async throws {
        let limit: Int64 = 64 << 20
        let largest: Int64 = 24 << 20
        let bridge = try UploadBridgeFixture(
            "cache-cap", mountArguments: ["--cache-max-size", "64M", "--cache-full-wait", "600"])
        defer { bridge.cleanup() }
        let source = try TemporaryDirectory("cache-cap-source")
        defer { source.remove() }
        try MixedTree.create(at: source.appending("mixed"), largeFileSize: Int(largest))
        try FileManager.default.createDirectory(atPath: source.appending("media"), withIntermediateDirectories: true)
        for index in 0..<16 { _ = try TestFiles.make(source.appending("media/clip-\(index).bin"), size: 8 << 20, seed: UInt64(index)) }
        try FileManager.default.createDirectory(atPath: source.appending("video"), withIntermediateDirectories: true)
        for index in 0..<7 { _ = try TestFiles.make(source.appending("video/take-\(index).bin"), size: 20 << 20, seed: UInt64(100 + index)) }

        let sampler = Sampler(bridge.mount.cache + "/files")
        let copy = try ProcessRunner.run("cp", ["-r", source.appending("media"), bridge.mount.mountpoint])
        let rsync = try ProcessRunner.run("rsync", ["-a", source.path + "/mixed", source.path + "/video", bridge.mount.mountpoint])
        let peak = sampler.stop()
        #expect(copy.succeeded, "\(copy.stderr)")
        #expect(rsync.succeeded, "\(rsync.stderr)")
        #expect(peak <= limit + largest, "the cache held \(peak) bytes, limit \(limit) + largest file \(largest)")
        let wait = try bridge.wait(timeout: 300)
        #expect(wait.status == 0, "\(wait.stderr)")
        let summary = try Self.cacheSummary(bridge)
        #expect((summary["evictions"] as? Int ?? 0) > 0, "\(summary)")
        #expect(summary["max_size"] as? Int == Int(limit))

        for directory in ["media", "mixed", "video"] {
            let problems = Self.sameFiles(source.appending(directory), bridge.mount.path(directory))
            #expect(problems.isEmpty, "\(directory): \(problems.prefix(5))")
        }
        var withoutHardLinks = TreeComparison.Options()
        withoutHardLinks.compareHardLinks = false  // rsync -a without -H
        let mixed = try TreeComparison.differences(source.appending("mixed"), bridge.mount.path("mixed"), options: withoutHardLinks)
        #expect(mixed.isEmpty, "\(mixed.prefix(5))")
        try bridge.mount.unmount()
        try bridge.mount.mount()
        for directory in ["media", "mixed", "video"] {
            let problems = Self.sameFiles(source.appending(directory), bridge.mount.path(directory))
            #expect(problems.isEmpty, "after a remount, \(directory): \(problems.prefix(5))")
        }
    }

    /// A 200 MiB tmpfs as the cache's filesystem takes 1 GB by `rsync -a`: writers wait, none fails, all
    /// upload and read back. With the service stopped, a writer gets ENOSPC after the wait and
    /// `user.tusfs.cache` says why; with the service back, the mount takes files again.
    @Test func aSmallCacheDiskTakesFiveTimesItsSize() async throws {
        let bridge = try UploadBridgeFixture("cache-tmpfs", mountArguments: ["--cache-full-wait", "15"])
        defer { bridge.cleanup() }
        try bridge.moveCacheToTmpfs(size: "200m")
        let source = try TemporaryDirectory("cache-tmpfs-source")
        defer { source.remove() }
        try FileManager.default.createDirectory(atPath: source.appending("in"), withIntermediateDirectories: true)
        // 1 GB: 125 files of 8 MB.
        for index in 0..<125 { _ = try TestFiles.make(source.appending("in/part-\(index).bin"), size: 8_000_000, seed: UInt64(index)) }

        let rsync = try ProcessRunner.run("rsync", ["-a", source.appending("in") + "/", bridge.mount.path("in") + "/"])
        #expect(rsync.succeeded, "\(rsync.stderr)\n\(bridge.daemonLog.suffix(2000))")
        #expect(try bridge.wait(timeout: 300).status == 0)
        let differences = Self.sameFiles(source.appending("in"), bridge.mount.path("in"))
        #expect(differences.isEmpty, "\(differences.prefix(5))\n\(bridge.daemonLog.suffix(3000))")

        // The service goes away: what is in the cache cannot go, and a writer is refused after the wait.
        bridge.stopServer()
        var refused: ProcessResult?
        for index in 0..<40 {
            let path = bridge.mount.path("late-\(index).bin")
            let result = try ProcessRunner.run("cp", [source.appending("in/part-\(index).bin"), path])
            if !result.succeeded {
                refused = result
                break
            }
        }
        let shown = (try? Self.cacheSummary(bridge)).map { "\($0)" } ?? "no summary"
        let failure = try #require(refused, "every file fitted: \(shown)")
        #expect(failure.stderr.contains("No space left on device"), "\(failure.stderr)\n\(bridge.daemonLog.suffix(3000))")
        let summary = try Self.cacheSummary(bridge)
        #expect(summary["full"] as? Bool == true, "\(summary)")
        #expect((summary["refusals"] as? Int ?? 0) > 0, "\(summary)")
        #expect((summary["reason"] as? String)?.contains("not uploaded yet") == true, "\(summary)")

        try bridge.startServer()
        #expect(try bridge.wait(timeout: 300).status == 0)
        let again = try ProcessRunner.run("cp", [source.appending("in/part-20.bin"), bridge.mount.path("after.bin")])
        #expect(again.succeeded, "\(again.stderr)")
        #expect(try TreeComparison.sameBytes(source.appending("in/part-20.bin"), bridge.mount.path("after.bin")))
    }
}
