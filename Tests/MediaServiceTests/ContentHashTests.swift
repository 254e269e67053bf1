import Crypto
import Foundation
import MediaService
import TestSupport
import Testing
import TusCore
import TusServer

/// The SHA-256 `hash` of a descriptor is computed in the background while the upload arrives (``BackgroundDigests``:
/// a tus upload's stored bytes behind its durable offset, a plain PUT's body) and recorded on the content file
/// (``ContentDigestTag``), where processing takes it. Whatever happens on the way (cut connections, discarded
/// chunks, a restart), the hash is the SHA-256 of the file.
@Suite struct ContentHashTests {
    private static func hashHex(_ data: Data) -> String { SHA256.hash(data: data).lowercaseHex }

    /// The download of a READY descriptor says what its content is: the SHA-256 as its ETag, the CRC-32 as
    /// `x-amz-checksum-crc32` (base64 of 4 bytes, big-endian), on a GET and a HEAD of the whole content; a range
    /// has neither digest of the whole.
    private func expectDownloadDigests(_ descriptor: [String: Any], of data: Data) async throws {
        let address = try #require(descriptor["url"] as? String)
        let url = try #require(URL(string: address))
        let crc32 = ChecksumAlgorithm.crc32.digest(of: data).base64EncodedString()
        let whole = try await HTTPTestClient.send("GET", url)
        #expect(whole.status == 200)
        #expect(whole.body == data)
        #expect(whole.header("x-amz-checksum-crc32") == crc32)
        #expect(whole.header("ETag") == "\"\(Self.hashHex(data))\"")
        let head = try await HTTPTestClient.send("HEAD", url)
        #expect(head.header("x-amz-checksum-crc32") == crc32)
        let range = try await HTTPTestClient.send("GET", url, headers: ["Range": "bytes=0-99"])
        #expect(range.status == 206)
        #expect(range.header("x-amz-checksum-crc32") == nil)
    }

    /// A resumable upload URL and its token.
    private func resumable(_ s: MediaTestServer, name: String) async throws -> (url: URL, token: String) {
        let r = try await s.call(
            "POST", "/files/generate-resumable-upload-url",
            ["mimeType": "application/octet-stream", "fileName": name, "uploadProtocol": "TUS"])
        #expect(r.status == 200, "\(r.text)")
        return (URL(string: try #require(r.json?["uploadUrl"] as? String))!, try #require(r.json?["uploadToken"] as? String))
    }

    private func create(_ endpoint: URL, length: Int, name: String, token: String) async throws -> URL {
        let metadata = try UploadMetadata(["filename": name, "contentType": "application/octet-stream", "token": token]).headerValue
        let r = try await HTTPTestClient.send(
            "POST", endpoint, headers: tusHeaders.merging(["Upload-Length": String(length), "Upload-Metadata": metadata]) { _, b in b })
        #expect(r.status == 201, "\(r.text)")
        return URL(string: try #require(r.header("Location")), relativeTo: endpoint)!.absoluteURL
    }

    private func patch(_ upload: URL, offset: Int, _ chunk: Data, checksum: Data? = nil) async throws -> HTTPTestResponse {
        var headers = tusHeaders.merging(["Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream"]) { _, b in b }
        if let checksum { headers["Upload-Checksum"] = UploadChecksum(algorithm: .sha1, digest: checksum).headerValue }
        return try await HTTPTestClient.send("PATCH", upload, headers: headers, body: chunk)
    }

    private func offset(_ upload: URL) async throws -> Int {
        let head = try await HTTPTestClient.send("HEAD", upload, headers: tusHeaders)
        return Int(try #require(head.header("Upload-Offset")))!
    }

    private func finalize(_ endpoint: URL, token: String, name: String) async throws -> String {
        let r = try await HTTPTestClient.send("PUT", URL(string: endpoint.absoluteString + "/" + token + "?filename=" + name)!)
        #expect(r.status == 200, "\(r.text)")
        return try #require((r.json?["file"] as? [String: Any])?["id"] as? String)
    }

    /// The tag of the one content file of the service, once the background thread wrote it (nil after 10 s).
    private func contentTag(_ data: TemporaryDirectory) async throws -> String? {
        let directory = URL(fileURLWithPath: data.path).appendingPathComponent("content")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        try #require(names.count == 1, "\(names)")
        for _ in 0..<200 {
            if let tag = ContentDigestTag.read(path: directory.appendingPathComponent(names[0]).path, algorithm: .sha256) {
                return tag.digest.map { String(format: "%02x", $0) }.joined()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    @Test func hashIsComputedWhileAResumedChunkedUploadArrives() async throws {
        // The first PATCH's connection is cut after 150,000 bytes (kept: it has no checksum).
        try await withMediaServer(processingDelay: .seconds(1), faults: FaultInjection(dropAfterBytes: 150_000)) { s in
            let data = randomBytes(5_000_000)
            let (endpoint, token) = try await resumable(s, name: "resumed.bin")
            let upload = try await create(endpoint, length: data.count, name: "resumed.bin", token: token)

            let cut = try await offPool { [headers = tusHeaders] in
                try Curl.send(
                    "PATCH", upload, headers: headers.merging(["Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"]) { _, b in b },
                    body: data.prefix(200_000))
            }
            #expect(cut.exit != 0 && cut.status == 0, "the connection should have been cut: \(cut)")
            #expect(try await offset(upload) == 150_000)
            // A chunk with a wrong checksum is discarded (460), the digest must not see it.
            let bad = try await patch(upload, offset: 150_000, data[150_000..<300_000], checksum: Data(repeating: 7, count: 20))
            #expect(bad.status == 460)
            // A PATCH at the wrong offset changes nothing (409).
            #expect(try await patch(upload, offset: 100_000, data[100_000..<200_000]).status == 409)
            var at = try await offset(upload)
            #expect(at == 150_000)
            while at < data.count {
                let chunk = data[at..<min(at + 1_000_000, data.count)]
                let r = try await patch(upload, offset: at, chunk, checksum: ChecksumAlgorithm.sha1.digest(of: chunk))
                #expect(r.status == 204)
                at += chunk.count
            }
            let id = try await finalize(endpoint, token: token, name: "resumed.bin")
            #expect(try await contentTag(s.data) == Self.hashHex(data), "the hash should have been computed on the way")
            let ready = try await s.waitUntilProcessed(id)
            #expect(ready["operationStatus"] as? String == "READY")
            #expect(ready["hash"] as? String == Self.hashHex(data))
            #expect(ready["sizeInBytes"] as? String == "5000000")
            try await expectDownloadDigests(ready, of: data)
        }
    }

    @Test func hashIsRightAfterARestartMidUpload() async throws {
        let data = randomBytes(5_000_000)
        let directory = try TemporaryDirectory("media-restart")
        defer { directory.remove() }
        let configuration = MediaServiceConfiguration(
            port: 0, dataDirectory: URL(fileURLWithPath: directory.path), processingDelay: .milliseconds(100))

        // First run: half the file.
        let first = try await MediaServer(configuration: configuration).start()
        let s1 = MediaTestServer(running: first, data: directory, apiKey: nil)
        let endpoint: URL
        let token: String
        let upload: URL
        do {
            (endpoint, token) = try await resumable(s1, name: "restart.bin")
            upload = try await create(endpoint, length: data.count, name: "restart.bin", token: token)
            #expect(try await patch(upload, offset: 0, data.prefix(2_000_000)).status == 204)
        } catch {
            await first.stop()
            throw error
        }
        await first.stop()
        // As after a real restart, no background digest of this upload is left (the registry is per process).
        BackgroundDigests.shared.forget(upload.lastPathComponent)

        // Second run (another port): the rest, then finalize. This process did not receive the first half: the
        // background digest starts again from the file's first byte.
        let second = try await MediaServer(configuration: configuration).start()
        do {
            let s2 = MediaTestServer(running: second, data: directory, apiKey: nil)
            let moved = { (url: URL) -> URL in
                var parts = URLComponents(url: url, resolvingAgainstBaseURL: false)!
                parts.port = second.baseURL.port
                return parts.url!
            }
            #expect(try await offset(moved(upload)) == 2_000_000)
            #expect(try await patch(moved(upload), offset: 2_000_000, data[2_000_000...]).status == 204)
            let id = try await finalize(moved(endpoint), token: token, name: "restart.bin")
            #expect(try await contentTag(directory) == Self.hashHex(data))
            let ready = try await s2.waitUntilProcessed(id)
            #expect(ready["operationStatus"] as? String == "READY")
            #expect(ready["hash"] as? String == Self.hashHex(data))
        } catch {
            await second.stop()
            throw error
        }
        await second.stop()
    }

    @Test func plainPutIsHashedWhileItArrives() async throws {
        try await withMediaServer(processingDelay: .seconds(1)) { s in
            let data = randomBytes(5_000_000)
            let file = try await s.uploadPlain(data, name: "plain.bin")
            #expect(try await contentTag(s.data) == Self.hashHex(data))
            let ready = try await s.waitUntilProcessed(file["id"] as! String)
            #expect(ready["hash"] as? String == Self.hashHex(data))
            try await expectDownloadDigests(ready, of: data)
        }
    }

    @Test func aSmallFileIsHashedAtProcessingAndItsDownloadCarriesBothDigests() async throws {
        // Under BackgroundDigests.minimumFileSize: processing reads it once for both digests.
        try await withMediaServer(processingDelay: .milliseconds(10)) { s in
            let data = randomBytes(100_000)
            let file = try await s.uploadPlain(data, name: "small.bin")
            let ready = try await s.waitUntilProcessed(file["id"] as! String)
            #expect(ready["hash"] as? String == Self.hashHex(data))
            try await expectDownloadDigests(ready, of: data)
        }
    }
}
