import Foundation
import TestSupport
import Testing
@testable import UploadEngine
import UploadStatus
import UploadTargets

/// The engine during an outage of the service (injected by the `FaultInjectingTarget`): it holds all work,
/// probes at the backoff's pace, counts no attempts, shows the outage, and carries on when the service answers.
struct ServiceOutageEngineTests {
    @Test(arguments: [FaultInjectingTarget.Outage.unreachable, .answering(status: 503, retryAfter: nil)])
    func anOutageHoldsWorkWithoutCountingAttemptsAndEverythingGoesOnOnceTheServiceAnswers(
        outage: FaultInjectingTarget.Outage
    ) async throws {
        let harness = try EngineHarness()
        defer { harness.directory.remove() }
        try await harness.engine.start()
        // Two files are ready before the outage: their rename and removal during it wait for the service.
        try await harness.write("kept.bin", content(1, size: 3000))
        try await harness.write("gone.bin", content(2, size: 3000))
        try await waitUntil("ready before the outage") {
            let kept = await harness.state("kept.bin"), gone = await harness.state("gone.bin")
            return kept == .ready && gone == .ready
        }

        harness.target.setOutage(outage)
        let names = (0..<20).map { "f\($0).bin" }
        for (index, name) in names.enumerated() { try await harness.write(name, content(10 + index, size: 5000)) }
        try await waitUntil("the outage is known") { !harness.engine.currentService().reachable }
        try await harness.rename("kept.bin", "renamed.bin")
        try FileManager.default.removeItem(atPath: harness.cacheRoot + "/gone.bin")
        try await harness.engine.fileRemoved("gone.bin")
        // Requests sent before the outage was known may still be on their way; each file waits once its own
        // has failed.
        try await waitUntil("every file waits") { await harness.engine.all(names, are: .pending) }

        let known = harness.target.calls
        var attemptsKnown: [String: Int] = [:]
        for name in names { attemptsKnown[name] = await harness.engine.status(of: name)?.attempts }
        try await Task.sleep(for: .milliseconds(800))
        let later = harness.target.calls
        #expect(later.uploads == known.uploads, "an upload started during the outage")
        #expect(later.renames == 0 && later.deletes == 0, "a remote operation went out during the outage: \(later)")
        let probes = later.probes - known.probes
        // Probes 40-80 ms apart once the backoff reaches the harness's 80 ms cap.
        #expect(probes >= 1 && probes <= 800 / 40 + 4, "\(probes) probes in 0.8 s")
        for name in names {
            let record = try #require(await harness.engine.status(of: name))
            #expect(record.state == .pending, "\(name)")
            // Failures before the outage was known count (the file's own retry); none after.
            #expect(record.attempts == attemptsKnown[name], "\(name): \(record.attempts) attempts, \(attemptsKnown[name] ?? -1) when known")
        }
        let shown = try #require(harness.engine.currentStatus(of: names[0]))
        #expect(shown.error?.hasPrefix("service unreachable since ") == true, "\(shown.error ?? "")")
        #expect(harness.engine.currentSubtreeSummary(of: "").service?.reachable == false)
        #expect(harness.engine.currentStatus(of: "renamed.bin")?.state == .ready, "a settled file keeps its state and error")
        #expect(harness.engine.currentStatus(of: "renamed.bin")?.error == nil)

        harness.target.setOutage(nil)
        try await waitUntil("every file ready after the outage") {
            for name in names where await harness.state(name) != .ready { return false }
            return true
        }
        #expect(harness.engine.currentService() == .reachable)
        #expect(harness.engine.currentStatus(of: names[0])?.error == nil)
        try await waitUntil("the rename and the removal reached the service") {
            let live = harness.service.liveFiles
            return live["renamed.bin"] != nil && live["kept.bin"] == nil && live["gone.bin"] == nil
        }
        for (index, name) in names.enumerated() { #expect(harness.service.liveFiles[name] == [content(10 + index, size: 5000)]) }
        await harness.engine.shutdown(waitForUploads: true)
    }

    @Test func aTooManyRequestsAnswerSpacesTheProbesAsTheServiceAsks() async throws {
        let harness = try EngineHarness()
        defer { harness.directory.remove() }
        try await harness.engine.start()
        harness.target.setOutage(.answering(status: 429, retryAfter: .milliseconds(300)))
        for index in 0..<6 { try await harness.write("f\(index).bin", content(index, size: 2000)) }
        try await waitUntil("the outage is known") { !harness.engine.currentService().reachable }
        // Probing goes on, never faster than the service asks (however late a loaded machine runs the probes).
        let known = harness.target.calls.probes
        let clock = ContinuousClock()
        let started = clock.now
        try await Task.sleep(for: .milliseconds(1200))
        let probes = harness.target.calls.probes - known
        let elapsed = (clock.now - started) / .milliseconds(300)
        #expect(probes >= 1 && Double(probes) <= elapsed + 1, "\(probes) probes in \(elapsed * 0.3) s with Retry-After 0.3 s")
        harness.target.setOutage(nil)
        try await waitUntil("ready") {
            for index in 0..<6 where await harness.state("f\(index).bin") != .ready { return false }
            return true
        }
        await harness.engine.shutdown(waitForUploads: true)
    }

    @Test func processingPollsWaitForTheServiceAndGoOnWhenItAnswers() async throws {
        let harness = try EngineHarness(target: FakeUploadTarget(options: .init(processingPolls: 40)))
        defer { harness.directory.remove() }
        try await harness.engine.start()
        try await harness.write("video.bin", content(3, size: 40_000))
        try await waitUntil("processing") { await harness.state("video.bin") == .processing }
        // The polls themselves fail: three in a row make the outage known.
        harness.target.setOutage(.unreachable)
        try await waitUntil("the outage is known") { !harness.engine.currentService().reachable }
        try await Task.sleep(for: .milliseconds(100))
        let polls = harness.target.calls.processingStatuses
        try await Task.sleep(for: .milliseconds(500))
        #expect(harness.target.calls.processingStatuses == polls, "a processing poll went out during the outage")
        #expect(await harness.state("video.bin") == .processing)
        #expect(harness.engine.currentStatus(of: "video.bin")?.error?.hasPrefix("service unreachable since ") == true)
        harness.target.setOutage(nil)
        try await waitUntil("ready once the service answers") { await harness.state("video.bin") == .ready }
        #expect(harness.engine.currentStatus(of: "video.bin")?.error == nil)
        await harness.engine.shutdown(waitForUploads: true)
    }
}
