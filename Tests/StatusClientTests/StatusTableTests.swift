import Foundation
import StatusClient
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

    @Test func anEmptySelectionIsTheTotalsLineAlone() throws {
        let snapshot = try snapshot([])
        #expect(StatusTable(snapshots: [snapshot], currentDirectory: "/", now: now).text == "0 files, 0 B pending, 0 B/s\n")
    }
}
