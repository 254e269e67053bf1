import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A cache on a disk that fills up: the journal cannot record a file that was closed, and nothing is lost.
@Suite(.serialized)
struct FullDiskTests {
    /// A file closed while the cache's disk (a small tmpfs) is full shows the journal's error, and uploads
    /// once space is freed, with no user action.
    @Test func aFileClosedOnAFullCacheDiskUploadsOnceSpaceIsFreed() async throws {
        let bridge = try UploadBridgeFixture("full-disk")
        defer { bridge.cleanup() }
        try bridge.moveCacheToTmpfs(size: "16m")
        try Data("before the disk filled\n".utf8).write(to: URL(fileURLWithPath: bridge.mount.path("before.txt")))
        #expect(try bridge.wait(timeout: 60).status == 0)

        // Written while there is room; the disk fills before it is closed, so its close cannot be journalled.
        let filler = bridge.mount.cache + "/filler"
        let script = """
            exec 3> "$1"
            printf 'closed on a full disk\\n' >&3
            dd if=/dev/zero of="$2" bs=64k status=none 2>/dev/null
            exec 3>&-
            """
        let write = try ProcessRunner.run("bash", ["-c", script, "bash", bridge.mount.path("late.txt"), filler])
        #expect(write.succeeded, "\(write.stderr)")
        let shown = await UploadBridgeFixture.eventually(timeout: 20) {
            (try? bridge.status("late.txt", "error"))?.contains("cannot record this file's change in the journal") == true
        }
        #expect(shown, "no journal error on late.txt: \(String(describing: try? bridge.status("late.txt", "error")))\n\(bridge.daemonLog.suffix(2000))")
        let waiting = try bridge.wait(timeout: 2)
        #expect(waiting.status == 2, "\(waiting.stderr)")

        try FileManager.default.removeItem(atPath: filler)
        let wait = try bridge.wait(timeout: 60)
        #expect(wait.status == 0, "\(wait.stderr)\n\(bridge.daemonLog.suffix(2000))")
        #expect(try bridge.status("late.txt") == "ready")
        #expect(try bridge.status("late.txt", "error") == nil)
        let contents = try await bridge.contents()
        let late = try #require(contents.files["late.txt"])
        #expect(try await ServiceContents.download(late) == Data("closed on a full disk\n".utf8))
    }
}
