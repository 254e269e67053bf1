import CLinux
import Foundation
import TestSupport
import Testing
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

/// Status by subtree on a real mount: a directory's listing (`DIR.tusfs.json`) and `tusfs status DIR` read
/// the files under DIR only, page by page from the journal, while uploads run.
@Suite("Status of a subtree", .serialized)
struct SubtreeStatusTests {
    /// More files in one directory than a page of the journal holds (512), beside another directory.
    static let bigCount = 700
    static let otherCount = 40

    static func decode(_ path: String) throws -> UploadStatusReport {
        let text = try ProcessRunner.run("/bin/cat", [path])
        guard text.succeeded else { throw TestFailure("cat \(path): \(text.stderr)") }
        return try UploadStatusReport.decode(Data(text.stdout.utf8))
    }

    @Test func aDirectorysListingAndStatusShowItsFilesOnlyWhileUploadsRun() async throws {
        let bridge = try UploadBridgeFixture("subtree", mountArguments: ["--write-back", "5"])
        defer { bridge.cleanup() }
        for directory in ["big", "other"] { try FileManager.default.createDirectory(atPath: bridge.mount.path(directory), withIntermediateDirectories: true) }
        for index in 0..<Self.bigCount { try Data("big \(index)\n".utf8).write(to: URL(fileURLWithPath: bridge.mount.path("big/f\(index).txt"))) }
        for index in 0..<Self.otherCount { try Data("other \(index)\n".utf8).write(to: URL(fileURLWithPath: bridge.mount.path("other/g\(index).txt"))) }
        let bigPaths = Set((0..<Self.bigCount).map { "big/f\($0).txt" })

        // The engine records a file a few milliseconds after its close (in batches, so other/'s files may be
        // recorded after big/'s); then, before and while the uploads run (write-back 5 s), the listing shows each
        // file of big/ once.
        func recordedCount(_ directory: String) throws -> Int {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = getxattr(bridge.mount.path(directory), "user.tusfs.summary", &buffer, buffer.count)
            guard count > 0 else { return -1 }
            return try SubtreeSummary.decode(Array(buffer[..<count])).files
        }
        let recorded = try await UploadBridgeFixture.eventually(timeout: 60) {
            try recordedCount("big") == Self.bigCount && recordedCount("other") == Self.otherCount
        }
        #expect(recorded)
        let during = try Self.decode(bridge.mount.path("big.tusfs.json"))
        #expect(Set(during.files.map(\.path)) == bigPaths, "every file of big/, each once, nothing else")
        #expect(during.files.count == Self.bigCount && during.files_total == Self.bigCount)
        #expect(during.files.contains { $0.state != .ready }, "read before every upload ended")
        var attributes = stat()
        #expect(stat(bridge.mount.path("big.tusfs.json"), &attributes) == 0 && attributes.st_size == 0, "a listing, sized as /proc files are")
        let status = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["status", "--json", bridge.mount.path("other")])
        #expect(status.succeeded, "\(status.stderr)")
        let other = try UploadStatusReport.decode(Data(status.stdout.utf8))
        #expect(Set(other.files.map(\.path)) == Set((0..<Self.otherCount).map { "other/g\($0).txt" }), "every file of other/ once")

        #expect(try bridge.wait(timeout: 120).status == 0)
        let after = try Self.decode(bridge.mount.path("big.tusfs.json"))
        #expect(after.files.count == Self.bigCount && after.files.allSatisfy { $0.state == .ready })
        #expect(after.totals[.ready] == Self.bigCount)
        let table = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["status", bridge.mount.path("big")])
        #expect(table.succeeded, "\(table.stderr)")
        #expect(table.stdout.split(separator: "\n").last?.hasPrefix("\(Self.bigCount) files (\(Self.bigCount) ready)") == true, "\(table.stdout.suffix(300))")
        let whole = try Self.decode(bridge.mount.path(".tusfs/status.json"))
        #expect(whole.files.count == Self.bigCount + Self.otherCount && whole.totals[.ready] == Self.bigCount + Self.otherCount)
        #expect(whole.reconciling == nil)
    }
}
