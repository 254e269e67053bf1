import AsyncHTTPClient
import Foundation
import MediaManagerAPI
import MediaManagerClient
import TestSupport
import Testing
import TusClient
import UploadEngine
@testable import UploadTargets
import UploadStatus

/// Folders, renames, deletes, termination and errors of `MediaManagerTarget` against an in-process service.
@Suite("MediaManagerTarget files and folders", .serialized)
struct MediaManagerFileTests {
    @Test("a/b/c.txt lands in folder b under a, under the root folder")
    func folderMapping() async throws {
        try await TargetTestService.with { test in
            try test.makeFile("a/b/c.txt", size: 100)
            try test.makeFile("top.txt", size: 10)
            let target = try test.target(rootFolder: "/backup/")
            guard case .stored(let file) = try await target.upload("a/b/c.txt", in: test) else { throw TestFailure("expected stored") }
            let b = try #require(try await folderID(target.client, ["backup", "a", "b"]))
            #expect(try await target.client.file(id: file.remoteId).parentFolderId == b)

            guard case .stored(let top) = try await target.upload("top.txt", in: test) else { throw TestFailure("expected stored") }
            let backup = try #require(try await folderID(target.client, ["backup"]))
            #expect(try await target.client.file(id: top.remoteId).parentFolderId == backup)

            let atRoot = try test.target()
            guard case .stored(let rootFile) = try await atRoot.upload("top.txt", in: test) else { throw TestFailure("expected stored") }
            #expect(try await atRoot.client.file(id: rootFile.remoteId).parentFolderId == SpecialFolder.mediaRoot)
        }
    }

    @Test("rename within a folder changes the name; across folders moves the file, creating folders once")
    func rename() async throws {
        try await TargetTestService.with { test in
            try test.makeFile("x/one.txt", size: 100)
            try test.makeFile("x/two.txt", size: 200)
            let target = try test.target()
            guard case .stored(let one) = try await target.upload("x/one.txt", in: test),
                case .stored(let two) = try await target.upload("x/two.txt", in: test)
            else { throw TestFailure("expected stored") }
            let x = try #require(try await folderID(target.client, ["x"]))

            try await target.rename(remoteId: one.remoteId, to: "x/renamed.txt")
            var descriptor = try await target.client.file(id: one.remoteId)
            #expect(descriptor.displayName == "renamed.txt")
            #expect(descriptor.parentFolderId == x)

            // Two files moved at once into the same new folders: each folder is made once.
            async let first: Void = target.rename(remoteId: one.remoteId, to: "y/z/three.txt")
            async let second: Void = target.rename(remoteId: two.remoteId, to: "y/z/two.txt")
            _ = try await (first, second)
            let z = try #require(try await folderID(target.client, ["y", "z"]))
            descriptor = try await target.client.file(id: one.remoteId)
            #expect(descriptor.displayName == "three.txt")
            #expect(descriptor.parentFolderId == z)
            #expect(try await target.client.file(id: two.remoteId).parentFolderId == z)

            // Back to the media root, and a rename that changes nothing.
            try await target.rename(remoteId: two.remoteId, to: "two.txt")
            try await target.rename(remoteId: two.remoteId, to: "two.txt")
            #expect(try await target.client.file(id: two.remoteId).parentFolderId == SpecialFolder.mediaRoot)

            // A folder trashed behind the target's back is made again, not used from the cache.
            try await target.client.deleteFolders(ids: [z])
            try await target.rename(remoteId: two.remoteId, to: "y/z/two.txt")
            let newZ = try #require(try await folderID(target.client, ["y", "z"]))
            #expect(newZ != z)
            #expect(try await target.client.file(id: two.remoteId).parentFolderId == newZ)
        }
    }

    @Test("delete moves the file to the trash; deleting again succeeds; a trashed file is not renamed back")
    func delete() async throws {
        try await TargetTestService.with { test in
            try test.makeFile("d/gone.txt", size: 100)
            let target = try test.target()
            guard case .stored(let file) = try await target.upload("d/gone.txt", in: test) else { throw TestFailure("expected stored") }
            try await target.delete(remoteId: file.remoteId)
            let trashed = try await target.client.file(id: file.remoteId)
            #expect(trashed.parentFolderId == SpecialFolder.trashRoot)
            #expect(trashed.state == .deleted)
            try await target.delete(remoteId: file.remoteId)
            try await target.rename(remoteId: file.remoteId, to: "d/other.txt")
            #expect(try await target.client.file(id: file.remoteId).state == .deleted)
        }
    }

    @Test("terminate deletes an unfinished tus upload; after finalize it trashes the file")
    func terminateResumable() async throws {
        try await TargetTestService.with { test in
            try test.makeFile("t/big.bin", size: MediaManagerUploadTests.large)
            let target = try test.target(chunkSize: 512 * 1024)
            let (resume, _) = try await MediaManagerUploadTests.interruptedUpload(target, test, path: "t/big.bin", after: 1 << 20)
            try await target.terminate(resume: resume)
            let tusURL = try #require(resume.tusUploadURL)
            let uploadURL = try #require(target.urls.resolved(tusURL))
            await #expect(throws: TusError.uploadNotFound(uploadURL)) { _ = try await target.client.tus.status(of: uploadURL) }
            try await target.terminate(resume: resume)  // again: nothing left, no error
            #expect(try await target.client.allFiles().isEmpty)

            let recorder = UploadRecorder()
            #expect(try await target.upload("t/big.bin", in: test, recorder: recorder) == .needsFinalize)
            let done = try #require(recorder.resumeData.last)
            let file = try await target.finalize(resume: done, remotePath: "t/big.bin", size: Int64(MediaManagerUploadTests.large))
            try await target.terminate(resume: done)
            #expect(try await target.client.file(id: file.remoteId).state == .deleted)
        }
    }

    @Test("terminate of a plain upload trashes the file its PUT stored, and stores nothing for an unused URL")
    func terminatePlain() async throws {
        try await TargetTestService.with { test in
            try test.makeFile("p/a.txt", size: 1000)
            let target = try test.target()
            let recorder = UploadRecorder()
            guard case .stored(let file) = try await target.upload("p/a.txt", in: test, recorder: recorder) else {
                throw TestFailure("expected stored")
            }
            try await target.terminate(resume: try #require(recorder.resumeData.first))
            #expect(try await target.client.file(id: file.remoteId).state == .deleted)

            // A URL that was journalled but never used: the probe must not leave a file behind.
            let unused = try await target.client.generateUploadURL(
                GenerateFileUploadURLRequest(mimeType: "text/plain", fileName: "b.txt", sizeInBytes: "1000", filePath: "/p"))
            let reference = PlainUploadReference(
                url: target.urls.stored(unused), location: RemoteLocation(folders: ["p"], fileName: "b.txt"), size: 1000)
            try await target.terminate(resume: ResumeData(plainUploadURL: reference.encoded))
            let p = try #require(try await folderID(target.client, ["p"]))
            #expect(try await target.client.allFiles(ListFilesQuery(parentFolderId: p)).isEmpty)
        }
    }

    @Test("processing status: FAILED is reported; an unknown file is a permanent error")
    func processingStatus() async throws {
        try await TargetTestService.with(processingFailureRate: 1) { test in
            try test.makeFile("bad.txt", size: 100)
            let target = try test.target()
            guard case .stored(let file) = try await target.upload("bad.txt", in: test) else { throw TestFailure("expected stored") }
            guard case .failed(let reason) = try await waitUntilProcessed(target, file.remoteId) else {
                throw TestFailure("processing did not fail")
            }
            #expect(!reason.isEmpty)

            let missing = await #expect(throws: UploadTargetError.self) {
                _ = try await target.processingStatus(remoteId: "tusfs-local-site_0000~mv2.txt")
            }
            #expect(missing?.isRetryable == false)
            #expect(missing?.status == 404 || missing?.status == 400)
        }
    }

    @Test("a wrong API key is a permanent error with 401 or 403; a stopped server is retryable")
    func errorMapping() async throws {
        try await TargetTestService.with(apiKey: "right") { test in
            try test.makeFile("e.txt", size: 100)
            let wrong = MediaManagerTarget(client: try test.client(apiKey: "wrong"))
            let denied = await #expect(throws: UploadTargetError.self) { _ = try await wrong.upload("e.txt", in: test) }
            #expect(denied?.isRetryable == false)
            #expect(denied?.status == 401 || denied?.status == 403)
            #expect(denied?.message.contains("API key") == true)

            // A client that gives up connecting at once (HTTPClient.shared keeps retrying a refused
            // connection until its connect timeout, minutes later).
            var configuration = HTTPClient.Configuration()
            configuration.timeout.connect = .seconds(1)
            configuration.connectionPool.retryConnectionEstablishment = false
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let down: UploadTargetError?, downStatus: UploadTargetError?
            do {
                let target = MediaManagerTarget(client: try test.client(httpClient: http))
                await test.stop()
                down = await #expect(throws: UploadTargetError.self) { _ = try await target.upload("e.txt", in: test) }
                downStatus = await #expect(throws: UploadTargetError.self) { _ = try await target.processingStatus(remoteId: "x") }
            } catch {
                try? await http.shutdown()
                throw error
            }
            try await http.shutdown()
            #expect(down?.isRetryable == true)
            #expect(downStatus?.isRetryable == true)
        }
    }

    @Test("a cache file that vanished is a permanent error")
    func missingFile() async throws {
        try await TargetTestService.with { test in
            let target = try test.target()
            let error = await #expect(throws: UploadTargetError.self) {
                _ = try await target.upload(
                    file: test.cache.appending("nope.txt"), remotePath: "nope.txt", size: 10, resume: nil,
                    onResumeData: { _ in }, progress: { _ in })
            }
            #expect(error?.isRetryable == false)
        }
    }
}
