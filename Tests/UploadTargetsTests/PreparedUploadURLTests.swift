import Foundation
import MediaManagerAPI
import MediaManagerClient
import TestSupport
import Testing
import UploadEngine
@testable import UploadTargets
import UploadStatus

/// `MediaManagerTarget.prepare` asks for a small file's upload URL while the file waits for its write-back
/// delay; the upload then takes it and sends one PUT, but only if the URL still fits the file.
@Suite("Prepared upload URLs", .serialized)
struct PreparedUploadURLTests {
    /// Generate Upload URL calls the service answered, from its `/metrics`.
    private func generateCalls(_ test: TargetTestService) async throws -> Int {
        let text = String(decoding: try await download(try test.service.baseURL.appendingPathComponent("metrics").absoluteString), as: UTF8.self)
        return text.split(separator: "\n")
            .filter { $0.hasPrefix("tusfs_server_requests_total{") && $0.contains("files/generate-upload-url\"") }
            .reduce(0) { $0 + (Int($1.split(separator: " ").last ?? "") ?? 0) }
    }

    /// Prepares `path` and waits until the service answered its Generate Upload URL call.
    private func prepare(_ target: MediaManagerTarget, _ path: String, in test: TargetTestService, expectCalls: Int) async throws {
        target.prepare(file: test.cache.appending(path), remotePath: path)
        for _ in 0..<250 {
            if try await generateCalls(test) >= expectCalls { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await generateCalls(test) == expectCalls, "prepare asked for one URL")
        // The answer reaches the target just after the service counted the call.
        try await Task.sleep(for: .milliseconds(100))
    }

    private func storedNames(_ target: MediaManagerTarget, folder: String) async throws -> [String] {
        let id = try #require(try await target.folders.existingID(of: [folder]))
        return try await target.client.listFiles(ListFilesQuery(parentFolderId: id)).files.compactMap(\.displayName)
    }

    /// Uploads `path`, which must be stored by a PUT, waits until the service processed it (READY) and
    /// downloads it: the file's id and the bytes the service has.
    private func uploadUntilReady(
        _ target: MediaManagerTarget, _ path: String, in test: TargetTestService, recorder: UploadRecorder = UploadRecorder()
    ) async throws -> (id: String, content: Data) {
        let outcome = try await target.upload(path, in: test, recorder: recorder)
        guard case .stored(let file) = outcome else { throw TestFailure("expected stored, got \(outcome)") }
        guard case .ready(let url) = try await waitUntilProcessed(target, file.remoteId) else {
            throw TestFailure("processing did not end READY")
        }
        return (file.remoteId, try await download(try #require(url)))
    }

    @Test("a prepared file is uploaded by one PUT with the URL asked for during its delay")
    func preparedFileIsOnePut() async throws {
        try await TargetTestService.with { test in
            let bytes = try test.makeTextFile("docs/note.txt", size: 5000)
            let target = try test.target()
            try await prepare(target, "docs/note.txt", in: test, expectCalls: 1)

            let recorder = UploadRecorder()
            let (id, stored) = try await uploadUntilReady(target, "docs/note.txt", in: test, recorder: recorder)
            #expect(stored == bytes)
            #expect(try await generateCalls(test) == 1, "the upload used the prepared URL")
            #expect(recorder.resumeData.first?.plainUploadURL != nil, "the URL was journalled before the PUT")
            let descriptor = try await target.client.file(id: id)
            #expect(descriptor.displayName == "note.txt")
            #expect(descriptor.mediaType == .document, "typed as text/plain")
            #expect(try await storedNames(target, folder: "docs") == ["note.txt"])
        }
    }

    @Test("rsync's temp file prepared under .NAME.XXXXXX is stored once, as NAME")
    func rsyncTempName() async throws {
        try await TargetTestService.with { test in
            let bytes = try test.makeFile("docs/.photo.png.Ab12Cd", size: 3000)
            let target = try test.target()
            try await prepare(target, "docs/.photo.png.Ab12Cd", in: test, expectCalls: 1)
            try FileManager.default.moveItem(atPath: test.cache.appending("docs/.photo.png.Ab12Cd"), toPath: test.cache.appending("docs/photo.png"))

            let (id, stored) = try await uploadUntilReady(target, "docs/photo.png", in: test)
            #expect(stored == bytes)
            #expect(try await generateCalls(test) == 1, "the URL prepared under the temp name was used")
            let descriptor = try await target.client.file(id: id)
            #expect(descriptor.displayName == "photo.png")
            #expect(descriptor.mediaType == .image, "typed by the final name (the content is random bytes)")
            #expect(try await storedNames(target, folder: "docs") == ["photo.png"], "nothing under the temp name")
        }
    }

    @Test("a new modification time after close (rsync -a, tar) keeps the prepared URL")
    func newTimesKeepTheURL() async throws {
        try await TargetTestService.with { test in
            let bytes = try test.makeFile("docs/keep.bin", size: 6000)
            let target = try test.target()
            try await prepare(target, "docs/keep.bin", in: test, expectCalls: 1)
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 1_600_000_000)], ofItemAtPath: test.cache.appending("docs/keep.bin"))

            let (_, stored) = try await uploadUntilReady(target, "docs/keep.bin", in: test)
            #expect(stored == bytes)
            #expect(try await generateCalls(test) == 1, "the prepared URL was used")
        }
    }

    @Test("a file written again after it was prepared is uploaded with a new URL, new content")
    func changedFileGetsNewURL() async throws {
        try await TargetTestService.with { test in
            try test.makeFile("docs/log.txt", size: 4000)
            let target = try test.target()
            try await prepare(target, "docs/log.txt", in: test, expectCalls: 1)
            let handle = try #require(FileHandle(forWritingAtPath: test.cache.appending("docs/log.txt")))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(repeating: 0x41, count: 1000))
            try handle.close()
            let now = try Data(contentsOf: URL(fileURLWithPath: test.cache.appending("docs/log.txt")))
            #expect(now.count == 5000)

            let (_, stored) = try await uploadUntilReady(target, "docs/log.txt", in: test)
            #expect(stored == now)
            #expect(try await generateCalls(test) == 2, "the prepared URL (made for 4000 bytes) was not used")
        }
    }

    @Test("a file moved to another folder after it was prepared lands in the new folder")
    func movedFileGetsNewURL() async throws {
        try await TargetTestService.with { test in
            let bytes = try test.makeFile("docs/a.txt", size: 2000)
            let target = try test.target()
            try await prepare(target, "docs/a.txt", in: test, expectCalls: 1)
            try FileManager.default.createDirectory(atPath: test.cache.appending("other"), withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: test.cache.appending("docs/a.txt"), toPath: test.cache.appending("other/a.txt"))

            let (_, stored) = try await uploadUntilReady(target, "other/a.txt", in: test)
            #expect(stored == bytes)
            #expect(try await generateCalls(test) == 2)
            #expect(try await storedNames(target, folder: "other") == ["a.txt"])
            #expect(try await storedNames(target, folder: "docs") == [], "the prepared URL's folder got no file")
        }
    }
}
