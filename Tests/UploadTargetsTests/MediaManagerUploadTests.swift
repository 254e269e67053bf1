import Foundation
import MediaManagerAPI
import MediaManagerClient
import TestSupport
import Testing
import TusClient
import UploadEngine
@testable import UploadTargets
import UploadStatus

/// `MediaManagerTarget` uploads against an in-process `tusfs serve` service on loopback.
@Suite("MediaManagerTarget uploads", .serialized)
struct MediaManagerUploadTests {
    static let large = 12 * 1024 * 1024 + 7

    @Test("a small file is stored by one PUT, becomes READY, and downloads byte-identical")
    func smallFile() async throws {
        try await TargetTestService.with { test in
            let bytes = try test.makeFile("docs/note.txt", size: 300_000)
            let target = try test.target()
            let recorder = UploadRecorder()
            let outcome = try await target.upload("docs/note.txt", in: test, recorder: recorder)
            guard case .stored(let file) = outcome else { throw TestFailure("expected stored, got \(outcome)") }
            #expect(file.needsProcessing)
            #expect(recorder.resumeData.count == 1)
            #expect(recorder.resumeData.first?.plainUploadURL != nil)
            #expect(recorder.progress.last == Int64(bytes.count))

            guard case .ready(let url) = try await waitUntilProcessed(target, file.remoteId) else {
                throw TestFailure("processing did not end READY")
            }
            let downloaded = try await download(try #require(url))
            let same = downloaded == bytes
            #expect(same)
            let descriptor = try await target.client.file(id: file.remoteId)
            #expect(descriptor.displayName == "note.txt")
        }
    }

    @Test("a 12 MB file goes by tus, needs finalize; finalizing twice gives the same file; content identical")
    func largeFile() async throws {
        try await TargetTestService.with { test in
            let bytes = try test.makeFile("video/big.bin", size: Self.large)
            let target = try test.target()
            let recorder = UploadRecorder()
            let outcome = try await target.upload("video/big.bin", in: test, recorder: recorder)
            #expect(outcome == .needsFinalize)
            let resume = try #require(recorder.resumeData.last)
            #expect(recorder.resumeData.count == 1)
            #expect(resume.tusUploadURL != nil && resume.uploadToken != nil && resume.plainUploadURL != nil)
            #expect(recorder.progress.last == Int64(bytes.count))
            #expect(recorder.progress.count > 2)

            let first = try await target.finalize(resume: resume, remotePath: "video/big.bin", size: Int64(bytes.count))
            let second = try await target.finalize(resume: resume, remotePath: "video/big.bin", size: Int64(bytes.count))
            #expect(first.remoteId == second.remoteId)

            guard case .ready(let url) = try await waitUntilProcessed(target, first.remoteId) else {
                throw TestFailure("processing did not end READY")
            }
            let downloaded = try await download(try #require(url))
            let same = downloaded == bytes
            #expect(same)
        }
    }

    @Test("an interrupted tus upload continues from the server's offset")
    func resumeFromServerOffset() async throws {
        try await TargetTestService.with { test in
            let bytes = try test.makeFile("big.bin", size: Self.large)
            let target = try test.target(chunkSize: 512 * 1024)
            let (resume, stoppedAt) = try await Self.interruptedUpload(target, test, path: "big.bin", after: 3 << 20)
            #expect(stoppedAt < Int64(bytes.count))

            let recorder = UploadRecorder()
            let outcome = try await target.upload("big.bin", in: test, resume: resume, recorder: recorder)
            #expect(outcome == .needsFinalize)
            #expect(recorder.resumeData.isEmpty, "no new upload was created")
            let firstReport = try #require(recorder.progress.first)
            #expect(firstReport >= stoppedAt && firstReport > 0)
            #expect(recorder.progress.last == Int64(bytes.count))

            let file = try await target.finalize(resume: resume, remotePath: "big.bin", size: Int64(bytes.count))
            _ = try await waitUntilProcessed(target, file.remoteId)
            let downloaded = try await download(try #require(try await target.client.file(id: file.remoteId).url))
            let same = downloaded == bytes
            #expect(same)
        }
    }

    @Test("upload with resume data of a complete tus upload sends nothing and asks for finalize")
    func resumeOfCompleteUpload() async throws {
        try await TargetTestService.with { test in
            let bytes = try test.makeFile("big.bin", size: Self.large)
            let target = try test.target()
            let first = UploadRecorder()
            _ = try await target.upload("big.bin", in: test, recorder: first)
            let resume = try #require(first.resumeData.last)

            let again = UploadRecorder()
            #expect(try await target.upload("big.bin", in: test, resume: resume, recorder: again) == .needsFinalize)
            #expect(again.progress == [Int64(bytes.count)])
            #expect(again.resumeData.isEmpty)

            // Finalized, then asked to upload again (a retry after a finalize whose answer was lost): the
            // upload is gone from the tus server but became a file, so no new upload is made.
            let file = try await target.finalize(resume: resume, remotePath: "big.bin", size: Int64(bytes.count))
            let third = UploadRecorder()
            #expect(try await target.upload("big.bin", in: test, resume: resume, recorder: third) == .needsFinalize)
            #expect(third.resumeData.isEmpty)
            #expect(try await target.finalize(resume: resume, remotePath: "big.bin", size: Int64(bytes.count)).remoteId == file.remoteId)
        }
    }

    @Test("a tus upload the server no longer has is started afresh with a new upload URL")
    func goneUploadStartsAfresh() async throws {
        try await TargetTestService.with { test in
            let bytes = try test.makeFile("big.bin", size: Self.large)
            let target = try test.target(chunkSize: 512 * 1024)
            let (resume, _) = try await Self.interruptedUpload(target, test, path: "big.bin", after: 1 << 20)
            let tusURL = try #require(resume.tusUploadURL)
            try await target.client.tus.terminate(try #require(target.urls.resolved(tusURL)))

            let recorder = UploadRecorder()
            #expect(try await target.upload("big.bin", in: test, resume: resume, recorder: recorder) == .needsFinalize)
            let fresh = try #require(recorder.resumeData.first)
            #expect(fresh.uploadToken != resume.uploadToken)
            #expect(recorder.progress.first == 0)
            let file = try await target.finalize(resume: fresh, remotePath: "big.bin", size: Int64(bytes.count))
            _ = try await waitUntilProcessed(target, file.remoteId)
            let downloaded = try await download(try #require(try await target.client.file(id: file.remoteId).url))
            let same = downloaded == bytes
            #expect(same)
        }
    }

    @Test("a tus creation whose answer is lost (its token used, the retry refused) goes on under a new upload URL")
    func lostCreationAnswerGetsANewUploadURL() async throws {
        let (servicePort, proxyPort) = (try LoopbackPort.free(), try LoopbackPort.free())
        try await TargetTestService.with(port: servicePort, publicURL: URL(string: "http://127.0.0.1:\(proxyPort)")) { test in
            let proxy = try AnswerDroppingProxy.start(port: proxyPort, upstreamPort: servicePort, dropping: "POST /upload/tus/")
            defer { proxy.stop() }
            let bytes = try test.makeFile("big.bin", size: Self.large)
            let target = try test.target()
            let recorder = UploadRecorder()
            #expect(try await target.upload("big.bin", in: test, recorder: recorder) == .needsFinalize)
            #expect(proxy.dropped.count == 1, "the first creation's answer was lost: \(proxy.dropped)")
            #expect(recorder.resumeData.count == 1, "only the upload that took the bytes was journalled")
            let resume = try #require(recorder.resumeData.first)
            let file = try await target.finalize(resume: resume, remotePath: "big.bin", size: Int64(bytes.count))
            _ = try await waitUntilProcessed(target, file.remoteId)
            let downloaded = try await download(try #require(try await target.client.file(id: file.remoteId).url))
            let same = downloaded == bytes
            #expect(same)
        }
    }

    @Test("a plain PUT repeated with the same resume data after it succeeded gives the same file, no duplicate")
    func plainResumeAfterSuccess() async throws {
        try await TargetTestService.with { test in
            try test.makeFile("photos/a.jpg", size: 50_000)
            let target = try test.target()
            let recorder = UploadRecorder()
            guard case .stored(let first) = try await target.upload("photos/a.jpg", in: test, recorder: recorder) else {
                throw TestFailure("expected stored")
            }
            let resume = try #require(recorder.resumeData.first)

            let again = UploadRecorder()
            guard case .stored(let second) = try await target.upload("photos/a.jpg", in: test, resume: resume, recorder: again) else {
                throw TestFailure("expected stored")
            }
            #expect(second.remoteId == first.remoteId)
            #expect(again.resumeData.isEmpty)
            let folder = try #require(try await folderID(target.client, ["photos"]))
            let files = try await target.client.allFiles(ListFilesQuery(parentFolderId: folder))
            #expect(files.map(\.id) == [first.remoteId])
        }
    }

    @Test("a used plain URL whose file is gone from its folder gets a new URL and a new upload")
    func plainResumeAfterFileTrashed() async throws {
        try await TargetTestService.with { test in
            try test.makeFile("photos/b.jpg", size: 40_000)
            let target = try test.target()
            let recorder = UploadRecorder()
            guard case .stored(let first) = try await target.upload("photos/b.jpg", in: test, recorder: recorder) else {
                throw TestFailure("expected stored")
            }
            try await target.client.deleteFiles(ids: [first.remoteId])

            let again = UploadRecorder()
            let resume = try #require(recorder.resumeData.first)
            guard case .stored(let second) = try await target.upload("photos/b.jpg", in: test, resume: resume, recorder: again) else {
                throw TestFailure("expected stored")
            }
            #expect(second.remoteId != first.remoteId)
            #expect(again.resumeData.count == 1, "a new upload URL was journalled")
            #expect(try await target.client.file(id: second.remoteId).displayName == "b.jpg")
        }
    }

    @Test("a plain PUT interrupted before it was sent is sent to the same URL on resume")
    func plainResumeBeforePut() async throws {
        try await TargetTestService.with { test in
            let bytes = try test.makeFile("a.txt", size: 10_000)
            let target = try test.target()
            let handle = CancelHandle()
            let recorder = UploadRecorder()
            let file = test.cache.appending("a.txt")
            // Cancelled while its resume data is being journalled: no PUT is sent.
            let task = Task { () async throws -> UploadOutcome in
                try await target.upload(
                    file: file, remotePath: "a.txt", size: Int64(bytes.count), resume: nil,
                    onResumeData: { data in
                        await recorder.onResumeData(data)
                        handle.cancel()
                    }, progress: recorder.progressHandler)
            }
            handle.set(task)
            let result = await task.result
            #expect(throws: UploadTargetError.self) { try result.get() }
            let resume = try #require(recorder.resumeData.first)
            #expect(try await target.client.allFiles().isEmpty)

            let again = UploadRecorder()
            guard case .stored(let stored) = try await target.upload("a.txt", in: test, resume: resume, recorder: again) else {
                throw TestFailure("expected stored")
            }
            #expect(again.resumeData.isEmpty, "the journalled URL was used")
            #expect(try await target.client.allFiles().map(\.id) == [stored.remoteId])
        }
    }

    @Test("upload URLs in resume data are origin-relative and still work after the service moves to another port")
    func relocatableURLs() async throws {
        try await TargetTestService.with { test in
            let bytes = try test.makeFile("move/big.bin", size: Self.large)
            let before = try test.service.port
            let target = try test.target(chunkSize: 512 * 1024)
            let (resume, stoppedAt) = try await Self.interruptedUpload(target, test, path: "move/big.bin", after: 2 << 20)
            #expect(resume.tusUploadURL?.hasPrefix("/upload/tus/") == true)
            #expect(resume.plainUploadURL?.hasPrefix("/upload/tus/") == true)

            await test.stop()
            try await test.start()
            #expect(try test.service.port != before)
            let moved = try test.target(chunkSize: 512 * 1024)
            let recorder = UploadRecorder()
            #expect(try await moved.upload("move/big.bin", in: test, resume: resume, recorder: recorder) == .needsFinalize)
            #expect(recorder.resumeData.isEmpty)
            #expect((recorder.progress.first ?? 0) >= stoppedAt && (recorder.progress.first ?? 0) > 0)
            let file = try await moved.finalize(resume: resume, remotePath: "move/big.bin", size: Int64(bytes.count))
            _ = try await waitUntilProcessed(moved, file.remoteId)
            let downloaded = try await download(try #require(try await moved.client.file(id: file.remoteId).url))
            let same = downloaded == bytes
            #expect(same)

            // A plain URL, too.
            try test.makeFile("small.txt", size: 1000)
            let small = UploadRecorder()
            _ = try await moved.upload("small.txt", in: test, recorder: small)
            #expect(small.resumeData.first?.plainUploadURL?.hasPrefix("/upload/put/") == true)
        }
    }

    @Test("URLs of another origin are kept as they are; origin-relative strings resolve against the current origin")
    func relocatableURLRules() throws {
        let urls = RelocatableURL(origin: URL(string: "http://127.0.0.1:8080/site-media/v1")!)
        #expect(urls.stored(URL(string: "http://127.0.0.1:8080/upload/tus/T/ID")!) == "/upload/tus/T/ID")
        #expect(urls.stored("http://127.0.0.1:80801/upload/x") == "http://127.0.0.1:80801/upload/x")
        #expect(urls.stored("https://upload.example.com/x?sig=1") == "https://upload.example.com/x?sig=1")
        #expect(urls.resolved("/upload/put/T")?.absoluteString == "http://127.0.0.1:8080/upload/put/T")
        #expect(urls.resolved("https://upload.example.com/x")?.absoluteString == "https://upload.example.com/x")

        let reference = PlainUploadReference(
            url: "/upload/put/T", location: RemoteLocation(folders: ["a b", "c&d"], fileName: "x=1+2.txt"), size: 42)
        let decoded = PlainUploadReference(decoding: reference.encoded)
        #expect(decoded == reference)
        #expect(PlainUploadReference(decoding: "/upload/put/T").location == nil)
        let root = PlainUploadReference(url: "/u", location: RemoteLocation(folders: [], fileName: "f"), size: 0)
        #expect(PlainUploadReference(decoding: root.encoded) == root)
    }

    /// Starts an upload of `path` and cancels it once the server acknowledged `after` bytes; returns the
    /// journalled resume data and the last acknowledged offset.
    static func interruptedUpload(
        _ target: MediaManagerTarget, _ test: TargetTestService, path: String, after: Int64
    ) async throws -> (ResumeData, Int64) {
        let handle = CancelHandle()
        let recorder = UploadRecorder(onProgress: { if $0 >= after { handle.cancel() } })
        let task = Task { () async throws -> UploadOutcome in
            try await target.upload(path, in: test, recorder: recorder)
        }
        handle.set(task)
        let result = await task.result
        switch result {
        case .success(let outcome): throw TestFailure("upload was not interrupted: \(outcome)")
        case .failure(let error):
            let targetError = error as? UploadTargetError
            #expect(targetError?.isRetryable == true && targetError?.message == "cancelled", "\(error)")
        }
        return (try #require(recorder.resumeData.last), recorder.progress.last ?? 0)
    }
}
