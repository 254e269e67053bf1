import Foundation
import Testing
@testable import UploadEngine
import UploadStatus

@Suite("Upload state machine")
struct UploadStateMachineTests {
    let machine = UploadStateMachine(
        writeBackDelay: .seconds(1),
        retryPolicy: RetryPolicy(base: .seconds(1), cap: .seconds(60), maxAttempts: 5, jitter: 0.5))
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let tusResume = ResumeData(tusUploadURL: "http://s/files/1", uploadToken: "tok")

    func record(_ state: UploadState, path: String = "videos/a.mp4", resume: ResumeData? = nil, remoteId: String? = nil) -> UploadRecord {
        UploadRecord(
            path: path, state: state, size: 100, uploadedBytes: state == .uploading ? 40 : 0, remoteId: remoteId,
            updatedAt: t0, generation: 3, resume: resume, lastCloseAt: t0)
    }

    func apply(_ record: UploadRecord, _ event: UploadEvent, after seconds: Double = 0) -> (UploadRecord, [UploadAction]) {
        machine.transition(record, event, now: t0.addingTimeInterval(seconds))
    }

    @Test func stateIsCodableAsLowercaseNames() throws {
        for state in UploadState.allCases {
            let data = try JSONEncoder().encode([state])
            #expect(String(decoding: data, as: UTF8.self) == "[\"\(state.rawValue)\"]")
            #expect(state.rawValue == state.rawValue.lowercased())
        }
        #expect(UploadState.allCases.map(\.rawValue) == ["local", "pending", "uploading", "finalizing", "processing", "ready", "failed"])
    }

    @Test func closeMakesPendingAndSchedulesWriteBack() {
        let (next, actions) = apply(record(.local), .closed(size: 1234), after: 5)
        #expect(next.state == .pending)
        #expect(next.size == 1234)
        #expect(next.lastCloseAt == t0.addingTimeInterval(5))
        #expect(actions == [.persist, .scheduleWriteBack(after: .seconds(1)), .prepare], "the target prepares while the file waits")
    }

    @Test func writeBackElapsedEnqueuesOnlyWhenDue() {
        let early = apply(record(.pending), .writeBackElapsed, after: 0.4)
        #expect(early.0.state == .pending)
        guard case .scheduleWriteBack(let after)? = early.1.first else { Issue.record("no reschedule"); return }
        #expect(abs(after.seconds - 0.6) < 0.001)
        let due = apply(record(.pending), .writeBackElapsed, after: 1)
        #expect(due.1 == [.enqueue])
    }

    @Test func slotGrantedStartsOrResumes() {
        let fresh = apply(record(.pending), .slotGranted(size: 100))
        #expect(fresh.0.state == .uploading)
        // pending → uploading is not journalled: a restart treats both the same way.
        #expect(fresh.1 == [.startUpload(resume: nil)])
        let resumed = apply(record(.pending, resume: tusResume), .slotGranted(size: 100))
        #expect(resumed.1 == [.startUpload(resume: tusResume)])
    }

    @Test func slotGrantedWithChangedSizeDropsStaleResume() {
        let (next, actions) = apply(record(.pending, resume: tusResume), .slotGranted(size: 150))
        #expect(next.size == 150)
        #expect(next.resume == nil)
        #expect(actions == [.persist, .terminateRemoteUpload(tusResume), .startUpload(resume: nil)])
    }

    @Test(arguments: [UploadState.local, .uploading, .finalizing, .processing, .ready, .failed])
    func slotGrantedOutsidePendingDoesNothing(state: UploadState) {
        let (next, actions) = apply(record(state), .slotGranted(size: 100))
        #expect(next == record(state))
        #expect(actions.isEmpty)
    }

    @Test func progressAndCreationDuringUpload() {
        let progressed = apply(record(.uploading), .uploadProgress(generation: 3, bytes: 70))
        #expect(progressed.0.uploadedBytes == 70)
        #expect(progressed.1.isEmpty)
        let created = apply(record(.uploading), .uploadCreated(generation: 3, tusResume))
        #expect(created.0.resume == tusResume)
        #expect(created.1 == [.persist])
    }

    @Test func resultsOfASupersededGenerationAreIgnored() {
        let stale: [UploadEvent] = [
            .uploadProgress(generation: 2, bytes: 70), .uploadCreated(generation: 2, tusResume),
            .uploadFinished(generation: 2, .needsFinalize), .uploadFailed(generation: 2, .retryable("x")),
        ]
        for event in stale {
            let (next, actions) = apply(record(.uploading), event)
            #expect(next == record(.uploading))
            #expect(actions.isEmpty)
        }
    }

    @Test func uploadFinishedGoesToFinalizingOrStraightToProcessingOrReady() {
        let mediaManager = apply(record(.uploading, resume: tusResume), .uploadFinished(generation: 3, .needsFinalize))
        #expect(mediaManager.0.state == .finalizing)
        #expect(mediaManager.0.uploadedBytes == 100)
        #expect(mediaManager.1 == [.persist, .finalize(resume: tusResume)])

        let processing = apply(record(.uploading), .uploadFinished(generation: 3, .stored(RemoteFile(remoteId: "r1", needsProcessing: true))))
        #expect(processing.0.state == .processing)
        #expect(processing.0.remoteId == "r1")
        #expect(processing.1 == [.persist, .pollProcessing(after: machine.processingPollPolicy.base)])

        let plainTus = apply(record(.uploading), .uploadFinished(generation: 3, .stored(RemoteFile(remoteId: "r1", url: "http://s/r1"))))
        #expect(plainTus.0.state == .ready)
        #expect(plainTus.0.url == "http://s/r1")
    }

    @Test func finalizeThenProcessingThenReady() {
        let finalized = apply(record(.finalizing, resume: tusResume), .finalizeFinished(generation: 3, RemoteFile(remoteId: "r9", needsProcessing: true)))
        #expect(finalized.0.state == .processing)
        #expect(finalized.0.remoteId == "r9")
        #expect(finalized.0.resume == nil)

        let stillPending = apply(finalized.0, .processingResult(generation: 3, .pending))
        #expect(stillPending.0.state == .processing)
        #expect(stillPending.0.processingPolls == 1)
        guard case .pollProcessing? = stillPending.1.first else { Issue.record("no poll"); return }

        let ready = apply(stillPending.0, .processingResult(generation: 3, .ready(url: "http://s/r9")))
        #expect(ready.0.state == .ready)
        #expect(ready.0.url == "http://s/r9")
        #expect(ready.1 == [.persist])

        let failed = apply(stillPending.0, .processingResult(generation: 3, .failed(reason: "corrupt media")))
        #expect(failed.0.state == .failed)
        #expect(failed.0.error?.contains("corrupt media") == true)
        #expect(failed.1 == [.persist])
    }

    @Test func processingPollsBackOff() {
        var current = record(.processing, remoteId: "r1")
        var delays: [Double] = []
        for _ in 0..<12 {
            let (next, actions) = apply(current, .processingResult(generation: 3, .pending))
            guard case .pollProcessing(let after)? = actions.first else { Issue.record("no poll"); return }
            delays.append(after.seconds)
            current = next
        }
        #expect(delays.last! <= machine.processingPollPolicy.cap.seconds)
        #expect(delays.last! > delays.first!)
    }

    @Test func retryableFailureBacksOffWithJitterAndCap() {
        var current = record(.uploading, resume: tusResume)
        var delays: [Double] = []
        for attempt in 1...4 {
            let (failed, actions) = apply(current, .uploadFailed(generation: 3, .retryable("connection reset", status: 503)))
            #expect(failed.state == .failed)
            #expect(failed.attempts == attempt)
            #expect(failed.error == "503: connection reset")
            #expect(failed.resume == tusResume, "the upload is resumed, not restarted")
            let due = try! #require(failed.nextAttemptAt)
            #expect(actions == [.persist, .scheduleRetry(at: due)])
            let delay = due.timeIntervalSince(t0)
            let full = min(pow(2, Double(attempt - 1)), 60)
            #expect(delay >= full * 0.5 && delay <= full)
            delays.append(delay)
            // the retry timer brings it back to pending, then a slot to uploading
            let early = apply(failed, .retryTimerElapsed, after: delay - 0.1)
            #expect(early.0.state == .failed)
            let retried = apply(failed, .retryTimerElapsed, after: delay)
            #expect(retried.0.state == .pending)
            #expect(retried.1 == [.persist, .enqueue])
            current = apply(retried.0, .slotGranted(size: 100)).0
            #expect(current.state == .uploading)
        }
        #expect(delays[3] > delays[0])

        let capped = RetryPolicy(base: .seconds(1), cap: .seconds(10), maxAttempts: 100, jitter: 0.5)
        for attempt in 1...40 {
            let delay = capped.delay(afterAttempt: attempt, seed: UInt64(attempt)).seconds
            #expect(delay <= 10 && delay >= 0)
        }
        #expect(capped.delay(afterAttempt: 30, seed: 7).seconds >= 5)
    }

    @Test func retriesStopAfterMaxAttemptsButTheUserCanRetry() {
        var failing = record(.uploading)
        failing.attempts = 4
        let (gaveUp, actions) = apply(failing, .uploadFailed(generation: 3, .retryable("timeout")))
        #expect(gaveUp.state == .failed)
        #expect(gaveUp.attempts == 5)
        #expect(gaveUp.nextAttemptAt == nil)
        #expect(actions == [.persist])
        let (retried, retryActions) = apply(gaveUp, .retryRequested)
        #expect(retried.state == .pending)
        #expect(retried.attempts == 0)
        #expect(retryActions == [.persist, .enqueue])
    }

    @Test func nonRetryableFailureIsNotRetriedAutomatically() {
        let (failed, actions) = apply(record(.uploading, resume: tusResume), .uploadFailed(generation: 3, .permanent("file too large", status: 413)))
        #expect(failed.state == .failed)
        #expect(failed.nextAttemptAt == nil)
        #expect(failed.error == "413: file too large")
        #expect(actions == [.persist, .terminateRemoteUpload(tusResume)])
        #expect(apply(failed, .retryTimerElapsed, after: 3600).1.isEmpty)
    }

    @Test func retryAfterProcessingFailedReplacesTheRemoteFile() {
        var failed = record(.failed, remoteId: "r1")
        failed.error = "processing failed: corrupt"
        let (next, actions) = apply(failed, .retryRequested)
        #expect(next.state == .pending)
        #expect(next.remoteId == nil)
        #expect(actions == [.persist, .deleteRemote(remoteId: "r1"), .enqueue])
    }

    @Test func rsyncTempFileRenamedWhilePendingIsJustRekeyed() {
        let temp = apply(record(.local, path: "dir/.a.mp4.XyZ123"), .closed(size: 100)).0
        let (renamed, actions) = apply(temp, .renamed(to: "dir/a.mp4"), after: 0.01)
        #expect(renamed.path == "dir/a.mp4")
        #expect(renamed.state == .pending)
        #expect(renamed.lastCloseAt == t0.addingTimeInterval(0.01), "the delay restarts")
        #expect(actions == [.persist, .scheduleWriteBack(after: .seconds(1)), .prepare])
        #expect(!actions.contains { if case .startUpload = $0 { true } else { false } })
    }

    @Test func renameWhileLocalIsJustRekeyed() {
        let (renamed, actions) = apply(record(.local), .renamed(to: "b.mp4"))
        #expect(renamed.path == "b.mp4")
        #expect(renamed.state == .local)
        #expect(actions == [.persist])
    }

    @Test func renameDuringUploadCancelsAndRestartsUnderTheNewName() {
        let (renamed, actions) = apply(record(.uploading, resume: tusResume), .renamed(to: "final.mp4"))
        #expect(renamed.path == "final.mp4")
        #expect(renamed.state == .pending)
        #expect(renamed.resume == nil)
        #expect(renamed.uploadedBytes == 0)
        #expect(actions == [.persist, .cancelUpload, .terminateRemoteUpload(tusResume), .scheduleWriteBack(after: .seconds(1)), .prepare])
    }

    @Test func renameAfterReadyRenamesRemotely() {
        let (renamed, actions) = apply(record(.ready, remoteId: "r1"), .renamed(to: "archive/a.mp4"))
        #expect(renamed.state == .ready)
        #expect(renamed.path == "archive/a.mp4")
        #expect(actions == [.persist, .renameRemote(remoteId: "r1", newPath: "archive/a.mp4")])
        let processing = apply(record(.processing, remoteId: "r1"), .renamed(to: "b.mp4"))
        #expect(processing.1 == [.persist, .renameRemote(remoteId: "r1", newPath: "b.mp4"), .pollProcessing(after: .zero)])
    }

    @Test func writeDuringUploadTerminatesItAndGoesBackToLocal() {
        let (next, actions) = apply(record(.uploading, resume: tusResume), .written)
        #expect(next.state == .local)
        #expect(next.generation == 4)
        #expect(next.resume == nil)
        #expect(next.uploadedBytes == 0)
        #expect(actions == [.persist, .cancelUpload, .terminateRemoteUpload(tusResume)])
        // the old upload's late result is ignored
        #expect(apply(next, .uploadFinished(generation: 3, .needsFinalize)).1.isEmpty)
    }

    @Test(arguments: [UploadState.pending, .finalizing, .processing, .ready, .failed])
    func writeInAnyLaterStateGoesBackToLocal(state: UploadState) {
        let remoteId: String? = [.processing, .ready].contains(state) ? "r1" : nil
        let (next, actions) = apply(record(state, remoteId: remoteId), .written)
        #expect(next.state == .local)
        #expect(next.generation == 4)
        #expect(next.remoteId == nil)
        #expect(actions.first == .persist)
        if state == .finalizing { #expect(actions.contains(.cancelUpload)) }
        if let remoteId { #expect(actions.contains(.deleteRemote(remoteId: remoteId)), "the old version leaves no orphan") }
    }

    @Test func writeWhileLocalChangesNothing() {
        #expect(apply(record(.local), .written).1.isEmpty)
    }

    @Test func removeDuringUploadCancelsAndTerminates() {
        let (_, actions) = apply(record(.uploading, resume: tusResume), .removed)
        #expect(actions == [.forget, .cancelUpload, .terminateRemoteUpload(tusResume)])
    }

    @Test func removeWhilePendingOrLocalForgetsIt() {
        #expect(apply(record(.pending), .removed).1 == [.forget])
        #expect(apply(record(.local), .removed).1 == [.forget])
        #expect(apply(record(.pending, resume: tusResume), .removed).1 == [.forget, .terminateRemoteUpload(tusResume)])
    }

    @Test func removeAfterReadyMovesItToTheTrash() {
        #expect(apply(record(.ready, remoteId: "r1"), .removed).1 == [.forget, .deleteRemote(remoteId: "r1")])
        #expect(apply(record(.processing, remoteId: "r1"), .removed).1 == [.forget, .deleteRemote(remoteId: "r1")])
    }

    @Test func recoveryAfterRestart() {
        let local = apply(record(.local), .restarted)
        #expect(local.0.state == .pending)
        #expect(local.1 == [.persist, .scheduleWriteBack(after: .seconds(1))], "prepared before the restart")

        #expect(apply(record(.pending), .restarted).1 == [.enqueue])

        let uploading = apply(record(.uploading, resume: tusResume), .restarted)
        #expect(uploading.0.state == .pending)
        #expect(uploading.0.resume == tusResume)
        #expect(uploading.1 == [.persist, .enqueue])
        #expect(apply(uploading.0, .slotGranted(size: 100)).1 == [.startUpload(resume: tusResume)], "HEAD, then continue")

        let finalizing = apply(record(.finalizing, resume: tusResume), .restarted)
        #expect(finalizing.0.state == .finalizing)
        #expect(finalizing.1 == [.finalize(resume: tusResume)], "finalize again (idempotent), never upload twice")

        #expect(apply(record(.processing, remoteId: "r1"), .restarted).1 == [.pollProcessing(after: .zero)])
        #expect(apply(record(.ready, remoteId: "r1"), .restarted).1.isEmpty)

        var failed = record(.failed)
        failed.nextAttemptAt = t0.addingTimeInterval(30)
        #expect(apply(failed, .restarted).1 == [.scheduleRetry(at: t0.addingTimeInterval(30))])
        #expect(apply(record(.failed), .restarted).1.isEmpty)
    }

    @Test func updatedAtIsShownAsRFC3339() {
        #expect(record(.ready).updatedAtRFC3339 == "2027-01-15T08:00:00Z")
        #expect(record(.uploading).progressText == "40/100")
    }
}

@Suite("Upload state machine: uploads that start at close")
struct EarlyStartTests {
    /// Files from 1,000 bytes are named at finalize (as the Media Manager target's tus uploads from 10 MB).
    let machine = UploadStateMachine(writeBackDelay: .seconds(1), earlyStartMinimumSize: 1_000)
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let resume = ResumeData(tusUploadURL: "http://s/files/1", uploadToken: "tok")

    func record(_ state: UploadState, path: String = "dir/.a.mp4.Xy12Ab", size: Int64 = 5_000) -> UploadRecord {
        UploadRecord(
            path: path, state: state, size: size, uploadedBytes: 0, updatedAt: t0, generation: 3,
            resume: state == .uploading || state == .finalizing ? resume : nil, lastCloseAt: t0)
    }

    func apply(_ record: UploadRecord, _ event: UploadEvent, after seconds: Double) -> (UploadRecord, [UploadAction]) {
        machine.transition(record, event, now: t0.addingTimeInterval(seconds))
    }

    @Test func aLargeFileIsQueuedAtCloseASmallOneWaitsForTheDelay() {
        var local = record(.local)
        local.lastCloseAt = nil
        let large = apply(local, .closed(size: 5_000), after: 0)
        #expect(large.0.state == .pending)
        #expect(large.1 == [.persist, .enqueue])
        let small = apply(local, .closed(size: 999), after: 0)
        #expect(small.1 == [.persist, .scheduleWriteBack(after: .seconds(1)), .prepare])
    }

    @Test func finalizeWaitsForTheDelayAfterTheLastClose() {
        let finished = apply(record(.uploading), .uploadFinished(generation: 3, .needsFinalize), after: 0.25)
        #expect(finished.0.state == .finalizing)
        #expect(finished.0.uploadedBytes == 5_000)
        guard case .scheduleFinalize(let after)? = finished.1.last, finished.1.count == 2 else {
            Issue.record("expected persist + scheduleFinalize, got \(finished.1)")
            return
        }
        #expect(abs(after.seconds - 0.75) < 0.001)
        let tooSoon = apply(finished.0, .writeBackElapsed, after: 0.5)
        #expect(tooSoon.0 == finished.0)
        guard case .scheduleFinalize(let rest)? = tooSoon.1.first else { Issue.record("no reschedule"); return }
        #expect(abs(rest.seconds - 0.5) < 0.001)
        #expect(apply(finished.0, .writeBackElapsed, after: 1).1 == [.finalize(resume: resume)])
        // An upload that took longer than the delay is finalized at once.
        let late = apply(record(.uploading), .uploadFinished(generation: 3, .needsFinalize), after: 3)
        #expect(late.1 == [.persist, .finalize(resume: resume)])
    }

    @Test func aRenameInTheSameFolderKeepsTheUploadAndRestartsTheDelay() {
        let renamed = apply(record(.uploading), .renamed(to: "dir/a.mp4"), after: 0.1)
        #expect(renamed.0.path == "dir/a.mp4")
        #expect(renamed.0.state == .uploading)
        #expect(renamed.0.resume == resume)
        #expect(renamed.0.lastCloseAt == t0.addingTimeInterval(0.1))
        #expect(renamed.1 == [.persist, .followRename])
        // Complete before the renamed file's delay is over: finalized (under the new name) after it.
        let waiting = apply(record(.finalizing), .renamed(to: "dir/a.mp4"), after: 0.5)
        #expect(waiting.0.state == .finalizing)
        #expect(waiting.1 == [.persist, .followRename, .scheduleFinalize(after: .seconds(1))])
    }

    @Test func aMoveToAnotherFolderOrARenameAfterFinalizeStartsAfresh() {
        let moved = apply(record(.uploading), .renamed(to: "other/a.mp4"), after: 0.1)
        #expect(moved.0.state == .pending)
        #expect(moved.0.resume == nil)
        #expect(moved.1 == [.persist, .cancelUpload, .terminateRemoteUpload(resume), .enqueue])
        // The delay had passed, so finalize was asked for already: that request is stopped.
        let finalizing = apply(record(.finalizing), .renamed(to: "dir/a.mp4"), after: 2)
        #expect(finalizing.0.state == .pending)
        #expect(finalizing.1 == [.persist, .cancelUpload, .terminateRemoteUpload(resume), .enqueue])
    }

    @Test func aWriteDuringTheEarlyUploadStopsIt() {
        let written = apply(record(.uploading), .written, after: 0.2)
        #expect(written.0.state == .local)
        #expect(written.0.generation == 4)
        #expect(written.1 == [.persist, .cancelUpload, .terminateRemoteUpload(resume)])
    }
}
