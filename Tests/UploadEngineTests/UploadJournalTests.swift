import Foundation
import TestSupport
import Testing
@testable import UploadEngine
import UploadStatus

@Suite("Upload journal")
struct UploadJournalTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000.25)

    func sample(_ path: String, _ state: UploadState = .pending, size: Int64 = 10) -> UploadRecord {
        UploadRecord(path: path, state: state, size: size, uploadedBytes: state == .uploading ? 4 : 0, updatedAt: t0)
    }

    @Test func recordsSurviveClosingAndReopening() throws {
        let directory = try TemporaryDirectory("journal")
        defer { directory.remove() }
        let path = directory.appending("journal.sqlite")
        let full = UploadRecord(
            path: "videos/2024/ünï café.mp4", state: .uploading, size: 12_000_000_000, uploadedBytes: 5_000_000_000,
            remoteId: "r1", url: "http://s/r1", error: "503: busy", attempts: 2, updatedAt: t0, generation: 7,
            resume: ResumeData(tusUploadURL: "http://s/files/abc", uploadToken: "tok", plainUploadURL: "http://s/put"),
            nextAttemptAt: t0.addingTimeInterval(30), lastCloseAt: t0.addingTimeInterval(-1), processingPolls: 3)
        do {
            let journal = try UploadJournal(path: path)
            try journal.save(full)
            try journal.save(sample("b.txt", .ready))
        }
        let reopened = try UploadJournal(path: path)
        #expect(try reopened.record(for: full.path) == full)
        #expect(try reopened.allRecords().map(\.path) == ["b.txt", full.path])
        #expect(try reopened.record(for: "missing") == nil)
        let mode = try String(contentsOfFile: path, encoding: .isoLatin1).prefix(16)
        #expect(mode.hasPrefix("SQLite format 3"))
        #expect(FileManager.default.fileExists(atPath: path + "-wal"), "WAL mode")
    }

    @Test func saveReplacesAndRemoveDeletes() throws {
        let directory = try TemporaryDirectory("journal")
        defer { directory.remove() }
        let journal = try UploadJournal(path: directory.appending("journal.sqlite"))
        try journal.save(sample("a"))
        var changed = sample("a", .uploading)
        changed.generation = 2
        try journal.save(changed)
        #expect(try journal.record(for: "a") == changed)
        try journal.remove("a")
        try journal.remove("a")
        #expect(try journal.allRecords().isEmpty)
    }

    @Test func recordsOfManyPathsAreReadAtOnce() throws {
        let directory = try TemporaryDirectory("journal")
        defer { directory.remove() }
        let journal = try UploadJournal(path: directory.appending("journal.sqlite"))
        // Every third of 1,200 paths is in the journal.
        let paths = (0..<1_200).map { "d/f\($0)" }
        for (index, path) in paths.enumerated() where index % 3 == 0 { try journal.save(sample(path, .ready)) }
        let found = try journal.records(for: paths + ["missing", "d/f0"])
        #expect(found.count == 400)
        #expect(Set(found.map(\.path)) == Set(paths.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)))
        #expect(found.allSatisfy { $0 == sample($0.path, .ready) })
        #expect(try journal.records(for: []).isEmpty)
    }

    @Test func renameMovesAFileAndEverythingUnderADirectory() throws {
        let directory = try TemporaryDirectory("journal")
        defer { directory.remove() }
        let journal = try UploadJournal(path: directory.appending("journal.sqlite"))
        for path in ["dir/a", "dir/sub/b", "dir/ü/c", "dir", "dir2/x", "dirt", "dir.txt", "other/dir/a"] { try journal.save(sample(path)) }
        try journal.rename(from: "dir", to: "moved/here")
        #expect(try journal.allRecords().map(\.path).sorted() == [
            "dir.txt", "dir2/x", "dirt", "moved/here", "moved/here/a", "moved/here/sub/b", "moved/here/ü/c", "other/dir/a",
        ])
        try journal.rename(from: "dirt", to: "dir.txt")
        #expect(try journal.record(for: "dirt") == nil)
        #expect(try journal.record(for: "dir.txt")?.path == "dir.txt")
        #expect(try journal.allRecords().count == 7)
    }

    @Test func countsPerStateAndBytesPending() throws {
        let directory = try TemporaryDirectory("journal")
        defer { directory.remove() }
        let journal = try UploadJournal(path: directory.appending("journal.sqlite"))
        try journal.save(sample("p1", .pending, size: 100))
        try journal.save(sample("p2", .pending, size: 50))
        try journal.save(sample("u", .uploading, size: 10))  // 4 uploaded
        try journal.save(sample("r", .ready, size: 1000))
        try journal.save(sample("f", .failed, size: 7))
        let counts = try journal.counts()
        #expect(counts.files[.pending] == 2)
        #expect(counts.files[.uploading] == 1)
        #expect(counts.files[.ready] == 1)
        #expect(counts.files[.failed] == 1)
        #expect(counts.files[.processing] == 0)
        #expect(counts.files.count == UploadState.allCases.count)
        #expect(counts.bytesPending == 100 + 50 + 6 + 7)
        #expect(try journal.records(in: .pending).map(\.path) == ["p1", "p2"])
    }

    @Test func outboxIsCommittedWithTheStateChangeAndSurvivesReopening() throws {
        let directory = try TemporaryDirectory("journal")
        defer { directory.remove() }
        let path = directory.appending("journal.sqlite")
        let resume = ResumeData(tusUploadURL: "http://s/files/1")
        do {
            let journal = try UploadJournal(path: path)
            try journal.save(sample("a", .uploading))
            let queued = try journal.commit(
                save: sample("b", .local), remove: "a",
                operations: [.terminate(resume), .delete(remoteId: "r1"), .rename(remoteId: "r2", newPath: "x/y")])
            #expect(queued.count == 3)
            try journal.completeOperation(queued[1].id)
        }
        let journal = try UploadJournal(path: path)
        #expect(try journal.allRecords().map(\.path) == ["b"])
        #expect(try journal.pendingOperations().map(\.operation) == [.terminate(resume), .rename(remoteId: "r2", newPath: "x/y")])
    }

    @Test func openingAnUnwritablePathIsATypedError() {
        #expect(throws: UploadJournalError.self) { try UploadJournal(path: "/proc/nope/journal.sqlite") }
    }
}
