import Foundation
import TestSupport
import Testing
import TusCore

/// An upload URL made for `sizeInBytes` takes that many bytes and not one more, however the client goes about it:
/// a deferred tus length, a later `Upload-Length`, a plain PUT with or without `Content-Length`.
@Suite struct SignedSizeTests {
    private func resumableURL(_ s: MediaTestServer, size: Int) async throws -> (url: URL, token: String) {
        let r = try await s.call(
            "POST", "/files/generate-resumable-upload-url",
            ["mimeType": "text/plain", "fileName": "three.txt", "uploadProtocol": "TUS", "sizeInBytes": String(size)])
        #expect(r.status == 200, "\(r.text)")
        return (URL(string: try #require(r.json?["uploadUrl"] as? String))!, try #require(r.json?["uploadToken"] as? String))
    }

    private func patch(_ upload: URL, offset: Int, body: Data, extra: [String: String] = [:]) async throws -> HTTPTestResponse {
        try await HTTPTestClient.send(
            "PATCH", upload,
            headers: tusHeaders.merging(["Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream"]) { _, b in b }
                .merging(extra) { _, b in b },
            body: body)
    }

    @Test func deferredLengthTusUploadCannotPassTheSignedSize() async throws {
        try await withMediaServer { s in
            let (endpoint, token) = try await resumableURL(s, size: 3)
            let metadata = try UploadMetadata(["filename": "three.txt", "token": token]).headerValue
            let tooLong = try await HTTPTestClient.send(
                "POST", endpoint, headers: tusHeaders.merging(["Upload-Length": "1000", "Upload-Metadata": metadata]) { _, b in b })
            #expect(tooLong.status == 413, "\(tooLong.text)")
            #expect(tooLong.errorMessage?.contains("3 bytes") == true, "\(tooLong.text)")

            let created = try await HTTPTestClient.send(
                "POST", endpoint, headers: tusHeaders.merging(["Upload-Defer-Length": "1", "Upload-Metadata": metadata]) { _, b in b })
            #expect(created.status == 201, "\(created.text)")
            let upload = URL(string: try #require(created.header("Location")), relativeTo: endpoint)!.absoluteURL

            let declared = try await patch(upload, offset: 0, body: Data("abc".utf8), extra: ["Upload-Length": "1000"])
            #expect(declared.status == 413, "\(declared.text)")
            let body = try await patch(upload, offset: 0, body: Data(repeating: 0x61, count: 1000))
            #expect(body.status == 413, "\(body.text)")
            #expect(body.errorMessage != nil)
            let head = try await HTTPTestClient.send("HEAD", upload, headers: tusHeaders)
            #expect((Int(head.header("Upload-Offset") ?? "") ?? 999) <= 3, "at most the signed 3 bytes were kept")

            // The signed size itself still goes through.
            let offset = Int(head.header("Upload-Offset") ?? "0") ?? 0
            let rest = try await patch(upload, offset: offset, body: Data("abc".utf8.dropFirst(offset)), extra: ["Upload-Length": "3"])
            #expect(rest.status == 204, "\(rest.text)")
            let finalized = try await HTTPTestClient.send("PUT", URL(string: endpoint.absoluteString + "/" + token + "?filename=three.txt")!)
            #expect(finalized.status == 200, "\(finalized.text)")
            #expect((finalized.json?["file"] as? [String: Any])?["sizeInBytes"] as? String == "3")
        }
    }

    @Test func plainPutPastTheSignedSizeIs413() async throws {
        try await withMediaServer { s in
            let url = try await s.uploadURL(name: "three.txt", mimeType: "text/plain", extra: ["sizeInBytes": "3"])
            // Answered from the Content-Length, before the body: read the answer off the raw connection (a client
            // that is still sending when the server stops reading may see a reset instead).
            let target = URL(string: url)!
            let answer = try await offPool {
                let connection = try RawConnection(port: target.port!)
                defer { connection.close() }
                try connection.send(
                    "PUT \(target.path)?filename=three.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                        + "Content-Length: 1000\r\n\r\n" + String(repeating: "a", count: 10))
                return connection.receiveResponse(timeout: 30)
            }
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer)")
            #expect(answer.contains("3 bytes"), "\(answer)")
            let ok = try await HTTPTestClient.send("PUT", URL(string: url + "?filename=three.txt")!, body: Data("abc".utf8))
            #expect(ok.status == 200, "the URL is still good for its 3 bytes: \(ok.text)")
        }
    }

    /// A chunked body (no `Content-Length`) that passes the signed size is answered at once, before it ends: the
    /// server does not read on to the end of a body it will refuse.
    @Test func plainPutIsAnsweredAsSoonAsItPassesTheSignedSize() async throws {
        try await withMediaServer { s in
            let url = URL(string: try await s.uploadURL(name: "three.txt", mimeType: "text/plain", extra: ["sizeInBytes": "3"]))!
            let answer = try await offPool {
                let connection = try RawConnection(port: url.port!)
                defer { connection.close() }
                try connection.send(
                    "PUT \(url.path)?filename=three.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n" + "a\r\n0123456789\r\n")
                // The body's last chunk is never sent.
                return connection.receiveResponse(timeout: 30)
            }
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer)")
            #expect(answer.contains("the upload URL was made for"), "\(answer)")
        }
    }
}
