import Foundation
import TestSupport
import Testing

@testable import TusClient

/// Our client against tuspyserver (pip `tuspyserver` under uvicorn), a tus server we did not write.
///
/// tuspyserver answers HEAD with 400 unless the metadata holds `filename` and `filetype`, so every upload here
/// carries both.
@Suite("tus client ↔ tuspyserver", .serialized)
struct TusPeerInteropTests {
    static func metadata(_ name: String) -> [String: String] {
        ["filename": name, "filetype": "application/octet-stream"]
    }

    @Test("uploads in several PATCHes are byte-identical, progress ends at the size",
        arguments: [0, 1, 100_000, 3 * 1024 * 1024 + 17])
    func uploadsByteIdentical(size: Int) async throws {
        let server = try TusPeerServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory("peer")
        defer { dir.remove() }
        let data = try TestFiles.make(dir.appending("f.bin"), size: size)
        let progress = ProgressRecorder()
        let tus = TusUploader(configuration: .init(chunkSize: 1024 * 1024, creationWithUploadLimit: 0))

        let upload = try await tus.upload(
            file: dir.appending("f.bin"), to: server.endpoint, metadata: Self.metadata("f.bin"),
            progress: { progress.record($0.acknowledged) })

        #expect(upload.offset == Int64(size))
        #expect(try server.storedData(of: upload.url) == data)
        #expect(progress.all.last == Int64(size))
        #expect(try await tus.offset(of: upload.url) == Int64(size))
    }

    @Test("a small file goes in the creation request (creation-with-upload)")
    func creationWithUpload() async throws {
        let server = try TusPeerServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory("cwu")
        defer { dir.remove() }
        let data = try TestFiles.make(dir.appending("small.bin"), size: 5000)
        let tus = TusUploader()
        #expect(try await tus.capabilities(of: server.endpoint).supports("creation-with-upload"))
        let created = try await tus.create(at: server.endpoint, file: dir.appending("small.bin"), metadata: Self.metadata("small.bin"))
        #expect(created.offset == 5000)
        #expect(created.isComplete)
        #expect(try server.storedData(of: created.url) == data)
    }

    @Test("an upload cancelled mid-way resumes from the server's offset and ends byte-identical")
    func resumeAfterCancellation() async throws {
        let server = try TusPeerServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory("resume")
        defer { dir.remove() }
        let size = 8 * 1024 * 1024
        let data = try TestFiles.make(dir.appending("big.bin"), size: size)
        let tus = TusUploader(configuration: .init(chunkSize: 512 * 1024))
        let created = try await tus.create(at: server.endpoint, length: Int64(size), metadata: Self.metadata("big.bin"))

        // Cancel the task once the server has acknowledged 2 MiB, as a crash or a stop would.
        let task = Task {
            try await tus.resume(created.url, file: dir.appending("big.bin"), from: 0, progress: { progress in
                if progress.acknowledged >= 2 * 1024 * 1024 { withUnsafeCurrentTask { $0?.cancel() } }
            })
        }
        await #expect(throws: CancellationError.self) { try await task.value }

        let offset = try await tus.offset(of: created.url)
        #expect(offset >= 2 * 1024 * 1024)
        #expect(offset < Int64(size))

        let progress = ProgressRecorder()
        let done = try await tus.resume(created.url, file: dir.appending("big.bin"), progress: { progress.record($0.acknowledged) })
        #expect(done.offset == Int64(size))
        #expect(progress.all.first == offset)
        #expect(try server.storedData(of: created.url) == data)
    }

    @Test("a second client resumes an upload from its URL alone, as after a crash")
    func resumeFromJournalURL() async throws {
        let server = try TusPeerServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory("journal")
        defer { dir.remove() }
        let size = 3 * 1024 * 1024
        let data = try TestFiles.make(dir.appending("f.bin"), size: size)
        let partial = dir.appending("partial.bin")
        try data.prefix(1024 * 1024).write(to: URL(fileURLWithPath: partial))

        let first = TusUploader(configuration: .init(chunkSize: 256 * 1024))
        let created = try await first.create(at: server.endpoint, length: Int64(size), metadata: Self.metadata("f.bin"))
        // Send only the first MiB (a file holding just that part), as if the process died after it.
        let partialDone = try await first.resume(created.url, file: partial, from: 0)
        #expect(partialDone.offset == 1024 * 1024)
        let journalURL = created.url

        let second = TusUploader(configuration: .init(chunkSize: 1024 * 1024))
        let status = try await second.status(of: journalURL)
        #expect(status.offset == 1024 * 1024)
        #expect(status.length == Int64(size))
        let done = try await second.resume(journalURL, file: dir.appending("f.bin"), from: status.offset)
        #expect(done.isComplete)
        #expect(try server.storedData(of: journalURL) == data)
    }

    @Test("termination deletes the upload; a second terminate is not an error")
    func terminate() async throws {
        let server = try TusPeerServer.start()
        defer { server.stop() }
        let tus = TusUploader()
        let created = try await tus.create(at: server.endpoint, length: 1000, metadata: Self.metadata("x.bin"))
        try await tus.terminate(created.url)
        await #expect(throws: TusError.uploadNotFound(created.url)) { _ = try await tus.offset(of: created.url) }
        try await tus.terminate(created.url)
    }
}
