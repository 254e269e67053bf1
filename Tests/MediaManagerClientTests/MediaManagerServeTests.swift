import AsyncHTTPClient
import Foundation
import MediaManagerAPI
import MediaManagerClient
import NIOCore
import TestSupport
import Testing
import TusClient

/// The Media Manager client against the real `tusfs serve` on loopback.
@Suite("Media Manager client ↔ tusfs serve", .serialized)
struct MediaManagerServeTests {
    /// The content at a descriptor's `url`.
    static func download(_ descriptor: MediaManagerAPI.FileDescriptor) async throws -> Data {
        let url = try #require(descriptor.url)
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
        #expect(response.status == .ok)
        return Data(try await response.body.collect(upTo: 256 << 20).readableBytesView)
    }

    @Test("a small file by one PUT and a 12 MB file by tus both become READY and download byte-identical")
    func uploadsBothWays() async throws {
        let server = try ServeProcess.start(arguments: ["--processing-delay", "0.1"])
        defer { server.stop() }
        let dir = try TemporaryDirectory("mm")
        defer { dir.remove() }
        let small = try TestFiles.make(dir.appending("small.bin"), size: 300_000, seed: 1)
        let large = try TestFiles.make(dir.appending("large.bin"), size: 12 * 1024 * 1024 + 5, seed: 2)
        let tus = TusUploader(configuration: .init(chunkSize: 4 * 1024 * 1024))
        let client = MediaManagerClient(endpoint: server.baseURL, tus: tus)
        let progress = ProgressRecorder()

        for (name, data) in [("small.bin", small), ("large.bin", large)] {
            let created = try await client.upload(
                file: dir.appending(name), options: MediaUploadOptions(filePath: "/tests"),
                progress: { progress.record($0.acknowledged) })
            #expect(created.displayName == name)
            #expect(created.size == Int64(data.count))
            let ready = try await client.waitUntilProcessed(fileID: created.id, timeout: .seconds(30))
            #expect(ready.operationStatus == .ready)
            #expect(try await Self.download(ready) == data)
        }
        #expect(progress.all.last == Int64(large.count))
        let requests = try await server.metrics()
        #expect(requests.contains("PATCH"))
    }

    @Test("files, folders, rename, move, search, get-files and bulk delete")
    func management() async throws {
        let server = try ServeProcess.start(arguments: ["--api-key", "k3y", "--processing-delay", "0"])
        defer { server.stop() }
        let dir = try TemporaryDirectory("mgmt")
        defer { dir.remove() }
        try TestFiles.make(dir.appending("a.txt"), size: 1000)
        let client = MediaManagerClient(endpoint: server.apiURL, credentials: .init(apiKey: "k3y", siteID: "site-1"))

        let wrongKey = MediaManagerClient(endpoint: server.apiURL, credentials: .init(apiKey: "nope"))
        let denied = await #expect(throws: MediaManagerError.self) { _ = try await wrongKey.listFiles() }
        #expect(denied?.status == 401 || denied?.status == 403)

        let folder = try await client.createFolder(displayName: "albums")
        #expect(try await client.folder(id: folder.id).displayName == "albums")
        #expect(try await client.listFolders().folders.contains { $0.id == folder.id })

        let file = try await client.upload(file: dir.appending("a.txt"))
        let renamed = try await client.renameFile(id: file.id, to: "b.txt")
        #expect(renamed.displayName == "b.txt")
        let moved = try await client.moveFile(id: file.id, toFolder: folder.id)
        #expect(moved.parentFolderId == folder.id)
        #expect(try await client.files(ids: [file.id]).map(\.id) == [file.id])
        #expect(try await client.allFiles(ListFilesQuery(parentFolderId: folder.id, paging: CursorPaging(limit: 1))).map(\.id) == [file.id])
        #expect(try await client.searchFiles(SearchFilesRequest(search: "b.txt")).files.contains { $0.id == file.id })
        #expect(try await client.downloadURLs(fileID: file.id).isEmpty == false)

        try await client.deleteFiles(ids: [file.id])
        try await client.deleteFiles(ids: [file.id])
        let trashed = try await client.file(id: file.id)
        #expect(trashed.parentFolderId == SpecialFolder.trashRoot || trashed.state == .deleted)

        let missing = await #expect(throws: MediaManagerError.self) { _ = try await client.file(id: "no-such-file") }
        #expect(missing?.status == 404)
    }

    @Test("with 10% injected 503s and cut connections, 50 files of mixed sizes arrive byte-identical, re-sending at most one chunk")
    func faultyServer() async throws {
        let dropAfter = 1024 * 1024
        let chunk: Int64 = 8 * 1024 * 1024
        let server = try ServeProcess.start(arguments: [
            "--fail-rate", "0.1", "--drop-after-bytes", "\(dropAfter)", "--processing-delay", "0",
        ])
        defer { server.stop() }
        let dir = try TemporaryDirectory("faults")
        defer { dir.remove() }
        // 44 files under 10 MB by one PUT each and 6 above
        // by tus; every one over 1 MiB has its connection cut once.
        var sizes = (0..<44).map { index in [10, 1, 4096, 65_537, 700_000, 2_500_000][index % 6] + index }
        sizes += (0..<6).map { 10 * 1024 * 1024 + $0 * 1_234_567 }
        var contents: [Data] = []
        for (index, size) in sizes.enumerated() {
            contents.append(try TestFiles.make(dir.appending("f\(index).bin"), size: size, seed: UInt64(index + 7)))
        }
        let tus = TusUploader(
            configuration: .init(chunkSize: chunk, retryPolicy: RequestRetryPolicy(maxAttempts: 12, initialDelay: .milliseconds(20), maxDelay: .milliseconds(200))))
        let client = MediaManagerClient(
            endpoint: server.baseURL, tus: tus,
            retryPolicy: RequestRetryPolicy(maxAttempts: 12, initialDelay: .milliseconds(20), maxDelay: .milliseconds(200)))
        let before = try await server.metric("tusfs_server_bytes_received_total")

        let descriptors = try await withThrowingTaskGroup(of: (Int, MediaManagerAPI.FileDescriptor).self) { group in
            var results: [Int: MediaManagerAPI.FileDescriptor] = [:]
            var next = 0
            func add() {
                let index = next
                next += 1
                group.addTask { (index, try await client.upload(file: dir.appending("f\(index).bin"))) }
            }
            for _ in 0..<4 { add() }
            while let (index, descriptor) = try await group.next() {
                results[index] = descriptor
                if next < sizes.count { add() }
            }
            return results
        }

        #expect(descriptors.count == 50)
        for (index, descriptor) in descriptors {
            let ready = try await client.waitUntilProcessed(fileID: descriptor.id, timeout: .seconds(60))
            #expect(ready.operationStatus == .ready, "file \(index)")
            #expect(try await Self.download(ready) == contents[index], "file \(index)")
        }
        let received = try await server.metric("tusfs_server_bytes_received_total") - before
        let total = Double(sizes.reduce(0, +))
        // tusfs serve cuts each upload (tus upload or plain upload URL) once, when it is longer than the limit.
        let drops = sizes.filter { $0 > dropAfter }.count
        #expect(received >= total)
        // Each cut request wastes at most what it carried: one chunk.
        #expect(received - total <= Double(max(1, drops)) * Double(chunk), "re-sent \(received - total) bytes after \(drops) drops")
    }

    @Test("Upload-Expires is read, and an expired upload is reported as gone so a new one can be made")
    func expiredUpload() async throws {
        let server = try ServeProcess.start(arguments: ["--expire-after", "1"])
        defer { server.stop() }
        let client = MediaManagerClient(endpoint: server.baseURL)
        let resumable = try await client.generateResumableUploadURL(
            GenerateFileResumableUploadURLRequest(mimeType: "application/octet-stream", fileName: "e.bin", sizeInBytes: "1000"))
        let endpoint = try #require(URL(string: resumable.uploadUrl))
        let created = try await client.tus.create(
            at: endpoint, length: 1000,
            metadata: MediaManagerClient.tusMetadata(fileName: "e.bin", mimeType: "application/octet-stream", uploadToken: resumable.uploadToken))
        let expires = try #require(created.expires)
        #expect(expires.timeIntervalSinceNow < 5)
        try await Task.sleep(for: .milliseconds(2100))
        #expect(created.isExpired())
        await #expect(throws: TusError.uploadNotFound(created.url)) { _ = try await client.tus.status(of: created.url) }
    }
}

@Suite("Plain PUT of a growing file")
struct GrowingFilePutTests {
    /// A file that grew after its upload URL was asked for: the PUT sends the size the URL was made for, and
    /// the service takes it (sending the whole file would be refused, after streaming it all).
    @Test func aPutSendsExactlyTheSizeItsURLWasMadeFor() async throws {
        let server = try ServeProcess.start(arguments: ["--processing-delay", "0"])
        defer { server.stop() }
        let dir = try TemporaryDirectory("grow")
        defer { dir.remove() }
        let content = try TestFiles.make(dir.appending("log.txt"), size: 20_000, seed: 3)
        let client = MediaManagerClient(endpoint: server.baseURL)
        let url = try await client.generateUploadURL(
            GenerateFileUploadURLRequest(mimeType: "text/plain", fileName: "log.txt", sizeInBytes: "8000", filePath: "/grow"))
        let stored = try await client.put(file: dir.appending("log.txt"), size: 8_000, to: url, fileName: "log.txt", mimeType: "text/plain")
        #expect(stored.size == 8_000)
        let ready = try await client.waitUntilProcessed(fileID: stored.id, timeout: .seconds(30))
        #expect(try await MediaManagerServeTests.download(ready) == content.prefix(8_000))
    }
}
