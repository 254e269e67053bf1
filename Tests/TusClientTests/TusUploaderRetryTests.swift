import AsyncHTTPClient
import Foundation
import TestSupport
import Testing

@testable import TusClient

/// The client against a tus server that fails on purpose (TusFlakyServer), with waits recorded, not slept.
@Suite("tus client retries")
struct TusUploaderRetryTests {
    func client(chunkSize: Int64 = 64 * 1024, sleeper: SleepRecorder, attempts: Int = 5) -> TusUploader {
        TusUploader(
            configuration: .init(
                chunkSize: chunkSize,
                retryPolicy: RequestRetryPolicy(maxAttempts: attempts, initialDelay: .milliseconds(100), maxDelay: .seconds(5)),
                sleep: { try await sleeper.sleep($0) }, random: { 0 }))
    }

    @Test("5xx, 423 and 429 are retried with growing waits and Retry-After; the file arrives intact")
    func retriesStatuses() async throws {
        let server = try TusFlakyServer.start(faults: ["PATCH": ["503", "423", "429:2"], "POST": ["500"]])
        defer { server.stop() }
        let dir = try TemporaryDirectory("retry")
        defer { dir.remove() }
        let data = try TestFiles.make(dir.appending("f.bin"), size: 200_000)
        let sleeper = SleepRecorder()

        let upload = try await client(sleeper: sleeper).upload(file: dir.appending("f.bin"), to: server.endpoint)

        #expect(try await server.storedData(of: upload.url) == data)
        // POST 500 → 100 ms; first PATCH 503 → 100 ms, 423 → 200 ms, 429 with Retry-After: 2 → 2 s.
        #expect(sleeper.all == [.milliseconds(100), .milliseconds(100), .milliseconds(200), .seconds(2)])
    }

    @Test("a cut connection is followed by HEAD and the upload goes on from the server's offset")
    func resumesAfterDrop() async throws {
        let server = try TusFlakyServer.start(faults: ["PATCH": ["drop:10000", "drop:5000"]])
        defer { server.stop() }
        let dir = try TemporaryDirectory("drop")
        defer { dir.remove() }
        let data = try TestFiles.make(dir.appending("f.bin"), size: 150_000)
        let sleeper = SleepRecorder()
        let progress = ProgressRecorder()

        let upload = try await client(sleeper: sleeper).upload(
            file: dir.appending("f.bin"), to: server.endpoint, progress: { progress.record($0.acknowledged) })

        #expect(try await server.storedData(of: upload.url) == data)
        let log = try await server.requestLog()
        // The PATCH after each drop starts where the server's kept bytes end.
        let patches = log.filter { $0.hasPrefix("PATCH") }
        #expect(patches == ["PATCH 0", "PATCH 10000", "PATCH 15000", "PATCH 80536", "PATCH 146072"])
        #expect(log.filter { $0.hasPrefix("HEAD") }.count == 2)
        #expect(progress.all == progress.all.sorted())
        #expect(progress.all.last == 150_000)
    }

    @Test("409 asks the server for its offset before the next PATCH")
    func conflictHeadsFirst() async throws {
        let server = try TusFlakyServer.start(faults: ["PATCH": ["409"]])
        defer { server.stop() }
        let dir = try TemporaryDirectory("conflict")
        defer { dir.remove() }
        let data = try TestFiles.make(dir.appending("f.bin"), size: 1000)
        let tus = client(sleeper: SleepRecorder())
        let created = try await tus.create(at: server.endpoint, length: 1000)
        let done = try await tus.resume(created.url, file: dir.appending("f.bin"), from: 0)
        #expect(done.offset == 1000)
        #expect(try await server.storedData(of: created.url) == data)
        let log = try await server.requestLog()
        #expect(Array(log.suffix(3)) == ["PATCH 0", "HEAD -", "PATCH 0"])
    }

    @Test("other 4xx fail at once with the server's message")
    func badRequestFailsAtOnce() async throws {
        let server = try TusFlakyServer.start(faults: ["PATCH": ["400"]])
        defer { server.stop() }
        let dir = try TemporaryDirectory("bad")
        defer { dir.remove() }
        try TestFiles.make(dir.appending("f.bin"), size: 1000)
        let sleeper = SleepRecorder()
        let error = await #expect(throws: TusError.self) {
            try await client(sleeper: sleeper).upload(file: dir.appending("f.bin"), to: server.endpoint)
        }
        #expect(error == .http(status: 400, message: "injected 400"))
        #expect(sleeper.all.isEmpty)
    }

    @Test("a 429 the caller does not want retried comes back with the server's Retry-After")
    func throttledAnswerCarriesRetryAfter() async throws {
        let server = try TusFlakyServer.start(faults: ["PATCH": ["429:7"]])
        defer { server.stop() }
        let dir = try TemporaryDirectory("busy")
        defer { dir.remove() }
        try TestFiles.make(dir.appending("f.bin"), size: 1000)
        var policy = RequestRetryPolicy(maxAttempts: 5, initialDelay: .milliseconds(100), maxDelay: .seconds(5))
        policy.retriesThrottled = false
        let sleeper = SleepRecorder()
        let tus = TusUploader(configuration: .init(retryPolicy: policy, sleep: { try await sleeper.sleep($0) }, random: { 0 }))
        let error = await #expect(throws: TusError.self) {
            try await tus.upload(file: dir.appending("f.bin"), to: server.endpoint)
        }
        #expect(error == .busy(status: 429, message: "injected 429", retryAfter: .seconds(7)))
        #expect(error?.status == 429 && error?.retryAfter == .seconds(7))
        #expect(sleeper.all.isEmpty, "not retried by the client: the caller waits")
        // Without a Retry-After it stays a plain HTTP failure.
        let plain = try TusFlakyServer.start(faults: ["PATCH": ["429"]])
        defer { plain.stop() }
        let plainError = await #expect(throws: TusError.self) {
            try await tus.upload(file: dir.appending("f.bin"), to: plain.endpoint)
        }
        #expect(plainError == .http(status: 429, message: "injected 429"))
    }

    @Test("retries are bounded: persistent 503 ends with the last error")
    func boundedRetries() async throws {
        let server = try TusFlakyServer.start(faults: ["PATCH": Array(repeating: "503", count: 10)])
        defer { server.stop() }
        let dir = try TemporaryDirectory("bounded")
        defer { dir.remove() }
        try TestFiles.make(dir.appending("f.bin"), size: 1000)
        let sleeper = SleepRecorder()
        let error = await #expect(throws: TusError.self) {
            try await client(sleeper: sleeper, attempts: 3).upload(file: dir.appending("f.bin"), to: server.endpoint)
        }
        #expect(error?.status == 503)
        #expect(sleeper.all == [.milliseconds(100), .milliseconds(200)])
    }

    @Test("each PATCH carries a correct sha1 Upload-Checksum when the server advertises it")
    func checksums() async throws {
        // The flaky server answers 460 to a wrong checksum; a correct upload proves the digests match.
        let server = try TusFlakyServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory("sum")
        defer { dir.remove() }
        let data = try TestFiles.make(dir.appending("f.bin"), size: 300_000)
        let upload = try await client(sleeper: SleepRecorder()).upload(file: dir.appending("f.bin"), to: server.endpoint)
        #expect(try await server.storedData(of: upload.url) == data)
    }

    @Test("X-HTTP-Method-Override sends PATCH and DELETE as POST")
    func methodOverride() async throws {
        let server = try TusFlakyServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory("override")
        defer { dir.remove() }
        try TestFiles.make(dir.appending("f.bin"), size: 1000)
        let tus = TusUploader(configuration: .init(useMethodOverride: true))
        let upload = try await tus.upload(file: dir.appending("f.bin"), to: server.endpoint)
        try await tus.terminate(upload.url)
        let log = try await server.requestLog()
        #expect(log.contains("override PATCH"))
        #expect(log.contains("override DELETE"))
        #expect(!log.contains { $0.hasPrefix("PATCH") || $0.hasPrefix("DELETE") })
    }
}
