import Foundation
import StatusClient
import Testing
import UploadStatus

@Suite("Waiting for uploads")
struct UploadWaitTests {
    func wait(_ directory: StatusDirectory, goal: UploadWait.Goal, timeout: Double? = 5) throws -> UploadWait.Outcome {
        try UploadWait(
            selection: StatusSelection(paths: [directory.root]), goal: goal, timeout: timeout, interval: 0.01, showsProgress: false
        ).run()
    }

    @Test func readyAndUploadedSettleDifferentStates() {
        #expect(UploadWait.Goal.ready.settles(.ready))
        #expect(!UploadWait.Goal.ready.settles(.processing))
        #expect(UploadWait.Goal.uploaded.settles(.processing))
        #expect(UploadWait.Goal.uploaded.settles(.ready))
        for goal in [UploadWait.Goal.ready, .uploaded] {
            #expect(!goal.settles(.pending) && !goal.settles(.uploading) && !goal.settles(.failed))
        }
    }

    @Test func everyFileReadyEndsTheWaitAtOnce() throws {
        let directory = try StatusDirectory([
            UploadRecord(path: "a.txt", state: .ready, size: 3, uploadedBytes: 3),
            UploadRecord(path: "d/b.txt", state: .ready, size: 4, uploadedBytes: 4),
        ])
        defer { directory.remove() }
        let outcome = try wait(directory, goal: .ready)
        #expect(outcome.total == 2)
        #expect(!outcome.timedOut && outcome.failed.isEmpty)
    }

    @Test func aFileFailedForGoodIsNamedWithItsError() throws {
        let directory = try StatusDirectory([
            UploadRecord(path: "a.txt", state: .failed, size: 3, error: "400: bad name"),
        ])
        defer { directory.remove() }
        let outcome = try wait(directory, goal: .ready)
        #expect(!outcome.timedOut)
        #expect(outcome.failed.map(\.path) == [directory.root + "/a.txt"])
        #expect(outcome.failed.first?.error.contains("bad name") == true)
    }

    @Test func aFileStillMovingTimesOutNamingItsState() throws {
        let directory = try StatusDirectory([
            UploadRecord(path: "a.txt", state: .uploading, size: 10, uploadedBytes: 4),
            UploadRecord(path: "b.txt", state: .processing, size: 1, uploadedBytes: 1),
        ])
        defer { directory.remove() }
        let ready = try wait(directory, goal: .ready, timeout: 0.05)
        #expect(ready.timedOut)
        #expect(ready.unsettled == [directory.root + "/a.txt (uploading 40%)", directory.root + "/b.txt (processing)"])
        #expect(ready.timeoutMessage(after: 0.05, settledWord: "ready").hasPrefix("timed out after 0.05 s: 2 of 2 files not ready: "))
        let uploaded = try wait(directory, goal: .uploaded, timeout: 0.05)
        #expect(uploaded.unsettled == [directory.root + "/a.txt (uploading 40%)"])
    }

    @Test func aFileWithNoRecordYetIsNotSettled() throws {
        let directory = try StatusDirectory([])
        defer { directory.remove() }
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory.root + "/new.txt"))
        let outcome = try wait(directory, goal: .ready, timeout: 0.05)
        #expect(outcome.unsettled == [directory.root + "/new.txt (no upload record yet)"])
    }

    @Test func aTimeoutMessageNamesFiveFilesAtMost() {
        var outcome = UploadWait.Outcome()
        outcome.unsettled = (1...7).map { "f\($0) (pending)" }
        outcome.total = 9
        #expect(outcome.timeoutMessage(after: 5, settledWord: "uploaded")
            == "timed out after 5 s: 7 of 9 files not uploaded: f1 (pending), f2 (pending), f3 (pending), f4 (pending), f5 (pending), …")
    }
}
