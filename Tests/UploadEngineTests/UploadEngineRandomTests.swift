import Foundation
import TestSupport
import Testing
@testable import UploadEngine
import Timekeeping

/// Random writes, overwrites, renames and removals (seeded) against the engine with a flaky target; once
/// things settle, the service holds exactly the cache's files, with the same contents, and nothing else.
@Suite("Upload engine under random file operations", .timeLimit(.minutes(1)))
struct UploadEngineRandomTests {
    /// `earlyStart`: files from 10,000 bytes go by uploads named at finalize, which start at close.
    @Test(arguments: [
        (1, false, false), (2, false, false), (3, false, false), (4, true, false), (5, true, false), (6, true, false),
        (7, false, true), (8, false, true), (9, true, true), (10, true, true),
    ])
    func serviceEndsUpMirroringTheCache(seed: Int, restarts: Bool, earlyStart: Bool) async throws {
        let service = FakeService()
        let directory = try TemporaryDirectory("random")
        defer { directory.remove() }
        /// The engine of each daemon run: the same fake service, failing 15 % of uploads part-way.
        func makeHarness(_ round: Int) throws -> EngineHarness {
            try EngineHarness(
                target: FakeUploadTarget(
                    service: service,
                    options: .init(
                        chunkSize: 4096, chunkDelay: .milliseconds(1), processingPolls: 1,
                        namedAtFinalizeFromSize: earlyStart ? 10_000 : nil)),
                faults: .init(failureRate: 0.15, seed: UInt64(seed * 100 + round)), directory: directory)
        }
        var harness = try makeHarness(0)
        try await harness.engine.start()
        var stopped: [UploadEngine] = []
        var random = SplitMix64(seed: UInt64(seed) &* 7919)
        let names = ["a", "b", "c", "dir/d", "dir/e", "dir/.e.tmp"]
        try FileManager.default.createDirectory(atPath: harness.cacheRoot + "/dir", withIntermediateDirectories: true)
        func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: harness.cacheRoot + "/" + name) }

        for step in 0..<120 {
            let name = names.randomElement(using: &random)!
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                try await harness.write(name, content(seed * 1000 + step, size: Int.random(in: 0..<40_000, using: &random)))
            case 5..<8:
                let other = names.randomElement(using: &random)!
                if exists(name) && name != other {
                    if exists(other) { try FileManager.default.removeItem(atPath: harness.cacheRoot + "/" + other) }
                    try await harness.rename(name, other)
                }
            default:
                if exists(name) {
                    try FileManager.default.removeItem(atPath: harness.cacheRoot + "/" + name)
                    try await harness.engine.fileRemoved(name)
                }
            }
            if restarts && Int.random(in: 0..<25, using: &random) == 0 {
                // The daemon stops with uploads in flight; the next one resumes from the journal.
                await harness.engine.shutdown(waitForUploads: false)
                stopped.append(harness.engine)
                harness = try makeHarness(step)
                try await harness.engine.start()
            }
            if Int.random(in: 0..<3, using: &random) == 0 {
                try await Task.sleep(for: .milliseconds(Int.random(in: 0..<40, using: &random)))
            }
        }

        var expected: [String: [Data]] = [:]
        for name in names where exists(name) {
            expected[name] = [try Data(contentsOf: URL(fileURLWithPath: harness.cacheRoot + "/" + name))]
        }
        do {
            try await waitUntil(timeout: 40, "the service mirrors the cache") {
                let counts = await harness.engine.counts()
                let outboxEmpty = try UploadJournal(path: harness.journalPath).pendingOperations().isEmpty
                return counts.files[.ready] == expected.count && service.liveFiles == expected && outboxEmpty
            }
        } catch {
            // What differs, for the log of a failed run.
            for record in await harness.engine.summary().files {
                print("DUMP record \(record.path) \(record.state) size=\(record.size) gen=\(record.generation) err=\(record.error ?? "-") remote=\(record.remoteId ?? "-") next=\(String(describing: record.nextAttemptAt))")
            }
            for (path, files) in service.liveFiles { print("DUMP live \(path) \(files.map(\.count)) expected \(expected[path]?.map(\.count) ?? [])") }
            for path in expected.keys { print("DUMP expected \(path) \(expected[path]!.map(\.count))") }
            print("DUMP outbox \(try UploadJournal(path: harness.journalPath).pendingOperations())")
            for call in service.calls.suffix(30) { print("DUMP call \(call)") }
            throw error
        }
        if !restarts {
            // (A daemon stopped right after the server created an upload leaves it unfinished; tus servers
            // expire those.)
            try await waitUntil("no unfinished upload left on the server") { service.openUploads.isEmpty }
        }
        let uploadedNames = Set(service.calls.compactMap { if case .upload(let path, _) = $0 { path } else { nil } })
        #expect(!uploadedNames.isEmpty)
        await harness.engine.shutdown(waitForUploads: true)
        #expect(restarts == !stopped.isEmpty)
    }
}
