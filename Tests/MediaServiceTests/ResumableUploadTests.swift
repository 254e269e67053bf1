import Foundation
import TestSupport
import Testing
import TusCore

/// The resumable flow: generate-resumable-upload-url → tus → finalize, and its token rules.
@Suite struct ResumableUploadTests {
    private func resumable(_ s: MediaTestServer, name: String) async throws -> (url: URL, token: String) {
        let r = try await s.call(
            "POST", "/files/generate-resumable-upload-url", ["mimeType": "video/mp4", "fileName": name, "uploadProtocol": "TUS"])
        #expect(r.status == 200, "\(r.text)")
        #expect(r.json?["uploadProtocol"] as? String == "TUS")
        return (URL(string: try #require(r.json?["uploadUrl"] as? String))!, try #require(r.json?["uploadToken"] as? String))
    }

    private func metadata(name: String, token: String) throws -> String {
        try UploadMetadata(["filename": name, "contentType": "video/mp4", "token": token]).headerValue
    }

    private func create(_ endpoint: URL, length: Int, metadata: String) async throws -> HTTPTestResponse {
        try await HTTPTestClient.send(
            "POST", endpoint, headers: tusHeaders.merging(["Upload-Length": String(length), "Upload-Metadata": metadata]) { _, b in b })
    }

    @Test func uploadResumeFinalizeDownload() async throws {
        try await withMediaServer { s in
            let (endpoint, token) = try await resumable(s, name: "movie.mp4")
            let options = try await HTTPTestClient.send("OPTIONS", endpoint)
            #expect(options.header("Tus-Extension")?.contains("checksum") == true)
            let data = randomBytes(250_000)
            let created = try await create(endpoint, length: data.count, metadata: metadata(name: "movie.mp4", token: token))
            #expect(created.status == 201, "\(created.text)")
            let upload = URL(string: try #require(created.header("Location")), relativeTo: endpoint)!.absoluteURL

            let early = try await HTTPTestClient.send("PUT", URL(string: endpoint.absoluteString + "/" + token + "?filename=movie.mp4")!)
            #expect(early.status == 409)

            var offset = 0
            while offset < data.count {
                let chunk = data[offset..<min(offset + 100_000, data.count)]
                let r = try await HTTPTestClient.send(
                    "PATCH", upload,
                    headers: tusHeaders.merging([
                        "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream",
                        "Upload-Checksum": UploadChecksum(algorithm: .sha1, digest: ChecksumAlgorithm.sha1.digest(of: chunk)).headerValue,
                    ]) { _, b in b }, body: chunk)
                #expect(r.status == 204)
                offset += chunk.count
            }
            let wrongToken = try await HTTPTestClient.send("PUT", URL(string: endpoint.absoluteString + "/AAAA?filename=movie.mp4")!)
            #expect(wrongToken.status == 403)
            let finalize = try await HTTPTestClient.send("PUT", URL(string: endpoint.absoluteString + "/" + token + "?filename=movie.mp4")!)
            #expect(finalize.status == 200, "\(finalize.text)")
            let file = try #require(finalize.json?["file"] as? [String: Any])
            #expect(file["displayName"] as? String == "movie.mp4")
            #expect(file["sizeInBytes"] as? String == "250000")
            let again = try await HTTPTestClient.send("PUT", URL(string: endpoint.absoluteString + "/" + token + "?filename=movie.mp4")!)
            #expect((again.json?["file"] as? [String: Any])?["id"] as? String == file["id"] as? String)

            let ready = try await s.waitUntilProcessed(file["id"] as! String)
            #expect(ready["operationStatus"] as? String == "READY")
            let content = try await HTTPTestClient.send("GET", URL(string: ready["url"] as! String)!)
            #expect(content.body == data)
        }
    }

    @Test func tokenIsSingleUseAndBound() async throws {
        try await withMediaServer { s in
            let (endpoint, token) = try await resumable(s, name: "a.mp4")
            let (otherEndpoint, otherToken) = try await resumable(s, name: "b.mp4")
            let missing = try await create(endpoint, length: 10, metadata: try UploadMetadata(["filename": "a.mp4"]).headerValue)
            #expect(missing.status == 403)
            let foreign = try await create(endpoint, length: 10, metadata: metadata(name: "a.mp4", token: otherToken))
            #expect(foreign.status == 403)
            #expect(foreign.errorMessage?.contains("token") == true)
            let first = try await create(endpoint, length: 10, metadata: metadata(name: "a.mp4", token: token))
            #expect(first.status == 201)
            let reused = try await create(endpoint, length: 10, metadata: metadata(name: "a.mp4", token: token))
            #expect(reused.status == 403)
            #expect(reused.errorMessage?.contains("already used") == true)
            // The upload is reachable through its own URL only.
            let id = URL(string: first.header("Location")!)!.lastPathComponent
            let own = try await HTTPTestClient.send("HEAD", endpoint.appendingPathComponent(id), headers: tusHeaders)
            #expect(own.status == 200)
            let viaOther = try await HTTPTestClient.send("HEAD", otherEndpoint.appendingPathComponent(id), headers: tusHeaders)
            #expect(viaOther.status == 404)
            let forged = URL(string: endpoint.absoluteString.dropLast(2) + "xx")!
            let forgedCreate = try await create(forged, length: 10, metadata: metadata(name: "a.mp4", token: token))
            #expect(forgedCreate.status == 403)
        }
    }
}
