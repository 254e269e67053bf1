import Foundation
import TestSupport
import Testing
import TusServer

/// tuspy (the Python tus client, `pip install tuspy`) uploading to a resumable URL of the service.
@Suite struct TuspyInteropTests {
    /// Uploads `file` with tuspy to `endpoint`; returns the process result.
    private static func tuspy(endpoint: String, token: String, file: String, chunk: Int, checksum: Bool) throws -> ProcessResult {
        let script = """
            import sys
            from tusclient import client
            endpoint, token, path, chunk, checksum = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == '1'
            c = client.TusClient(endpoint)
            u = c.uploader(file_path=path, chunk_size=chunk, upload_checksum=checksum, retries=5, retry_delay=0.1,
                           metadata={'filename': 'video.mp4', 'contentType': 'video/mp4', 'token': token})
            u.upload()
            print(u.url)
            """
        return try ProcessRunner.run("python3", ["-c", script, endpoint, token, file, String(chunk), checksum ? "1" : "0"])
    }

    @Test(arguments: [true, false])
    func tuspyResumesAfterACutConnection(checksum: Bool) async throws {
        let dir = try TemporaryDirectory("tuspy")
        defer { dir.remove() }
        let bytes = randomBytes(1_500_000)
        _ = FileManager.default.createFile(atPath: dir.appending("video.mp4"), contents: bytes)
        try await withMediaServer(faults: FaultInjection(dropAfterBytes: 300_000)) { s in
            let r = try await s.call(
                "POST", "/files/generate-resumable-upload-url", ["mimeType": "video/mp4", "fileName": "video.mp4", "uploadProtocol": "TUS"])
            let endpoint = try #require(r.json?["uploadUrl"] as? String)
            let token = try #require(r.json?["uploadToken"] as? String)

            let file = dir.appending("video.mp4")
            let result = try await offPool { try Self.tuspy(endpoint: endpoint, token: token, file: file, chunk: 512 * 1024, checksum: checksum) }
            #expect(result.succeeded, "\(result.stderr)")

            let finalize = try await HTTPTestClient.send("PUT", URL(string: endpoint + "/" + token + "?filename=video.mp4")!)
            #expect(finalize.status == 200, "\(finalize.text)")
            let id = try #require((finalize.json?["file"] as? [String: Any])?["id"] as? String)
            let ready = try await s.waitUntilProcessed(id)
            #expect(ready["operationStatus"] as? String == "READY")
            let download = try await HTTPTestClient.send("GET", URL(string: ready["url"] as! String)!)
            #expect(download.body == bytes)

            // One cut per upload: with a checksum the cut chunk was discarded and sent again; without, its first
            // 300,000 bytes were kept and only the rest was sent again.
            let metrics = try await HTTPTestClient.send("GET", s.baseURL.appendingPathComponent("metrics")).text
            let received = metrics.split(separator: "\n").first { $0.hasPrefix("tusfs_server_bytes_received_total ") }
                .flatMap { Int($0.split(separator: " ")[1]) } ?? 0
            #expect(received == bytes.count + (checksum ? 300_000 : 0))
        }
    }
}
