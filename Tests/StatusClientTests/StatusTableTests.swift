import Foundation
@testable import StatusClient
import Testing
import UploadStatus

@Suite("tusfs status table")
struct StatusTableTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func snapshot(_ records: [UploadRecord], throughput: Double = 0) throws -> MountSnapshot {
        let directory = try StatusDirectory(records, throughput: throughput)
        defer { directory.remove() }
        return try #require(try StatusSelection(paths: [directory.root]).snapshots().first)
    }

    @Test func oneRowPerFileThenTheTotals() throws {
        let snapshot = try snapshot([
            UploadRecord(path: "a/b.mov", state: .uploading, size: 10 * 1024 * 1024, uploadedBytes: 5 * 1024 * 1024),
            UploadRecord(path: "c.txt", state: .ready, size: 1024, uploadedBytes: 1024),
        ], throughput: 1024)
        let text = StatusTable(snapshots: [snapshot], currentDirectory: snapshot.root, now: now).text
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0] == "STATE      PROGRESS                     UPLOADED/SIZE     PATH")
        #expect(lines[1] == "uploading  [==========>         ]  50%  5.0 MiB/10.0 MiB  a/b.mov")
        #expect(lines[2] == "ready      [====================] 100%  1.0 KiB/1.0 KiB   c.txt")
        #expect(lines[3] == "2 files (1 uploading, 1 ready), 5.0 MiB pending, 1.0 KiB/s")
    }

    @Test func aFailedFileShowsItsErrorAndWhenItIsRetried() throws {
        let snapshot = try snapshot([
            UploadRecord(path: "c.txt", state: .failed, size: 1024, error: "connection refused", nextAttemptAt: now.addingTimeInterval(12)),
        ])
        let table = StatusTable(snapshots: [snapshot], currentDirectory: "/", now: now)
        #expect(table.text.contains("retry in 12s: connection refused"))
        #expect(table.text.hasSuffix("1 file (1 failed), 1.0 KiB pending, 0 B/s\n"))
    }

    @Test func evictedFilesAddACachedColumn() throws {
        let read = try snapshot([
            UploadRecord(path: "a.bin", state: .ready, size: 4 * 1024 * 1024, uploadedBytes: 4 * 1024 * 1024),
            UploadRecord(path: "b.bin", state: .ready, size: 4 * 1024 * 1024, uploadedBytes: 4 * 1024 * 1024),
            UploadRecord(path: "c.txt", state: .pending, size: 1024),
        ])
        #expect(!StatusTable(snapshots: [read], currentDirectory: read.root, now: now).text.contains("CACHED"))
        var files = read.files
        files[0].cached = "no"
        files[1].cached = "fetching \(1024 * 1024)/\(4 * 1024 * 1024)"
        let snapshot = MountSnapshot(root: read.root, report: read.report, files: files)
        let lines = StatusTable(snapshots: [snapshot], currentDirectory: read.root, now: now).text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "STATE    PROGRESS                     UPLOADED/SIZE    CACHED                    PATH")
        #expect(lines[1].hasSuffix("  no                        a.bin"), "\(lines[1])")
        #expect(lines[2].hasSuffix("  fetching 1.0 MiB/4.0 MiB  b.bin"), "\(lines[2])")
        #expect(lines[3].hasSuffix("  yes                       c.txt"), "\(lines[3])")
    }

    @Test func anEmptySelectionIsTheTotalsLineAlone() throws {
        let snapshot = try snapshot([])
        #expect(StatusTable(snapshots: [snapshot], currentDirectory: "/", now: now).text == "0 files, 0 B pending, 0 B/s\n")
    }
}
