import Foundation
import TestSupport
import Testing
@testable import UploadEngine
import UploadStatus

/// What the service says of a file's processing without being asked (webhooks): taken at once, also when it
/// comes before the upload's own answer; polls are then not needed.
@Suite struct ServiceReportTests {
    /// Polls far apart (the fallback beside webhooks), and a service that keeps every file PENDING when asked.
    static func harness() throws -> EngineHarness {
        var configuration = EngineHarness.configuration
        configuration.processingPollPolicy = RetryPolicy(base: .seconds(30), cap: .seconds(60), maxAttempts: .max)
        return try EngineHarness(target: FakeUploadTarget(options: .init(processingPolls: 1000)), configuration: configuration)
    }

    @Test func aFileWaitingForProcessingTakesTheReportAtOnce() async throws {
        let harness = try Self.harness()
        defer { harness.directory.remove() }
        try await harness.engine.start()
        try await harness.write("a.mp4", content(1, size: 5000))
        try await harness.write("b.mp4", content(2, size: 5000))
        try await waitUntil("processing") {
            let a = await harness.state("a.mp4"), b = await harness.state("b.mp4")
            return a == .processing && b == .processing
        }
        let a = try #require(await harness.engine.status(of: "a.mp4")?.remoteId)
        let b = try #require(await harness.engine.status(of: "b.mp4")?.remoteId)
        await harness.engine.serviceReported(remoteId: a, .ready(url: "https://media.example/a.mp4"))
        await harness.engine.serviceReported(remoteId: b, .failed(reason: "not a video"))
        await harness.engine.serviceReported(remoteId: "file-unknown", .ready(url: nil))
        try await waitUntil("settled") {
            let a = await harness.state("a.mp4"), b = await harness.state("b.mp4")
            return a == .ready && b == .failed
        }
        #expect(await harness.engine.status(of: "a.mp4")?.url == "https://media.example/a.mp4")
        #expect(await harness.engine.status(of: "b.mp4")?.error?.contains("not a video") == true)
        #expect(!harness.service.calls.contains { if case .status = $0 { true } else { false } }, "\(harness.service.calls)")
        await harness.engine.shutdown(waitForUploads: false)
    }

    /// The service processed the file before its answer to the upload arrived: the report is kept and taken
    /// when the file starts waiting.
    @Test func aReportBeforeTheUploadsAnswerIsKeptForIt() async throws {
        let harness = try Self.harness()
        defer { harness.directory.remove() }
        try await harness.engine.start()
        // The fake service numbers uploads and files with one counter: the first upload is 1, its file "file-2".
        await harness.engine.serviceReported(remoteId: "file-2", .ready(url: "https://media.example/early.mp4"))
        try await harness.write("early.mp4", content(3, size: 5000))
        try await waitUntil("ready") { await harness.state("early.mp4") == .ready }
        #expect(await harness.engine.status(of: "early.mp4")?.remoteId == "file-2")
        #expect(await harness.engine.status(of: "early.mp4")?.url == "https://media.example/early.mp4")
        #expect(!harness.service.calls.contains { if case .status = $0 { true } else { false } }, "\(harness.service.calls)")
        await harness.engine.shutdown(waitForUploads: false)
    }

    @Test func earlyReportsAreBoundedAndExpire() {
        var reports = EarlyReports()
        let start = ContinuousClock.now
        for index in 0..<(EarlyReports.capacity + 10) { reports.keep(.ready(url: nil), for: "id-\(index)", at: start) }
        #expect(reports.take("id-\(EarlyReports.capacity + 9)", at: start) != nil)
        #expect(reports.take("id-0", at: start) == nil)
        reports.keep(.failed(reason: "x"), for: "late", at: start)
        #expect(reports.take("late", at: start + EarlyReports.lifetime + .seconds(1)) == nil)
        #expect(reports.take("late", at: start) == nil)
    }
}
