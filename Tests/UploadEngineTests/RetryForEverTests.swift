import Foundation
import TestSupport
import Testing
@testable import UploadEngine
import UploadStatus

/// A failure that may pass (network, timeout, 408, 429, 5xx) never leaves a file failed for good by default:
/// an outage of any length ends with the upload retried, each wait at most the policy's cap.
@Suite("Retries for as long as it takes")
struct RetryForEverTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aFailureThatMayPassIsRetriedEvenAfterThousandsOfAttempts() throws {
        let machine = UploadStateMachine(writeBackDelay: .seconds(1), retryPolicy: RetryPolicy(cap: .seconds(2)))
        var failing = UploadRecord(path: "a.mp4", state: .uploading, size: 100, uploadedBytes: 40, updatedAt: t0, generation: 3)
        failing.attempts = 10_000  // days of outage at a 2 s cap
        let (failed, actions) = machine.transition(failing, .uploadFailed(generation: 3, .retryable("connection refused")), now: t0)
        #expect(failed.attempts == 10_001)
        let due = try #require(failed.nextAttemptAt)
        #expect(due > t0 && due <= t0.addingTimeInterval(2), "the wait never exceeds the cap")
        #expect(actions == [.persist, .scheduleRetry(at: due)])
        #expect(!failed.isFailedForGood)
    }

    @Test func theDefaultPoliciesRetryWithoutLimit() {
        let configuration = UploadEngineConfiguration()
        #expect(configuration.retryPolicy.maxAttempts == .max)
        #expect(configuration.retryPolicy.cap == .seconds(300))
        #expect(configuration.remoteOperationPolicy.maxAttempts == .max)
        for attempt in [1, 10, 100, 10_000, Int.max - 1] {
            #expect(configuration.retryPolicy.delay(afterAttempt: attempt, seed: 7) <= .seconds(300))
        }
    }

    @Test func aRefusalStillFailsForGood() {
        let machine = UploadStateMachine(writeBackDelay: .seconds(1))
        let uploading = UploadRecord(path: "a.mp4", state: .uploading, size: 100, updatedAt: t0, generation: 3)
        let (failed, _) = machine.transition(uploading, .uploadFailed(generation: 3, .permanent("name too long", status: 400)), now: t0)
        #expect(failed.isFailedForGood)
        #expect(failed.error == "400: name too long")
    }
}

@Suite("Retries for as long as it takes, through the engine", .timeLimit(.minutes(1)))
struct EngineRetryForEverTests {
    /// Twenty-five failures in a row (the old limit was ten) and the file still ends READY, by itself.
    @Test func aFileFailingManyTimesInARowEndsReady() async throws {
        let harness = try EngineHarness(faults: .init(failFirstUploads: 25))
        defer { harness.directory.remove() }
        try await harness.engine.start()
        try await harness.write("a.txt", Data("still here".utf8))
        try await waitUntil("ready after 25 failures") { await harness.state("a.txt") == .ready }
        #expect(harness.target.calls.uploads == 26)
        #expect(harness.service.liveFiles == ["a.txt": [Data("still here".utf8)]])
        await harness.engine.shutdown(waitForUploads: false)
    }
}
