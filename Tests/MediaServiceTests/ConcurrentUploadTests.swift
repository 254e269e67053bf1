import Foundation
import TestSupport
import Testing
import TusServer

/// Many uploads at once, under injected connection drops: every file arrives byte-identical.
///
/// The uploads run in parallel with `curl` (a fresh connection each); URLs are made and results checked
/// one at a time before and after.
@Suite struct ConcurrentUploadTests {
    @Test func parallelPlainAndResumableUploadsUnderDrops() async throws {
        try await withMediaServer(faults: FaultInjection(dropAfterBytes: 40_000)) { s in
            var plain: [(url: URL, bytes: Data)] = []
            for i in 0..<12 {
                let url = try await s.uploadURL(name: "p\(i).bin")
                plain.append((URL(string: url + "?filename=p\(i).bin")!, randomBytes(10_000 + i * 7_000)))
            }
            var resumable: [(endpoint: URL, token: String, upload: URL, bytes: Data)] = []
            for i in 0..<4 {
                resumable.append(try await createResumable(s, bytes: randomBytes(90_000 + i * 13_000), name: "r\(i).bin"))
            }
            let plainJobs = plain
            let resumableJobs = resumable
            let answers = try await withThrowingTaskGroup(of: (Int, Data).self) { group in
                for (i, job) in plainJobs.enumerated() {
                    group.addTask {
                        var response = try await offPool { try Curl.exchange("PUT", job.url, headers: [:], body: job.bytes) }
                        if response.status != 200 {  // cut once when over 40,000 bytes: a plain PUT starts over
                            #expect(job.bytes.count > 40_000)
                            response = try await offPool { try Curl.exchange("PUT", job.url, headers: [:], body: job.bytes) }
                        }
                        #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
                        return (i, response.body)
                    }
                }
                for job in resumableJobs {
                    group.addTask {
                        try await offPool { try Self.patchUntilComplete(job.upload, job.bytes) }
                        return (-1, Data())
                    }
                }
                var answers: [Int: Data] = [:]
                for try await (i, body) in group where i >= 0 { answers[i] = body }
                return answers
            }
            for (i, job) in plain.enumerated() {
                let json = try JSONSerialization.jsonObject(with: answers[i] ?? Data()) as? [String: Any]
                let id = try #require((json?["file"] as? [String: Any])?["id"] as? String)
                let ready = try await s.waitUntilProcessed(id)
                #expect(try await HTTPTestClient.send("GET", URL(string: ready["url"] as! String)!).body == job.bytes)
            }
            for job in resumable {
                let finalize = try await HTTPTestClient.send("PUT", URL(string: job.endpoint.absoluteString + "/" + job.token + "?filename=r.bin")!)
                #expect(finalize.status == 200, "\(finalize.text)")
                let id = try #require((finalize.json?["file"] as? [String: Any])?["id"] as? String)
                let ready = try await s.waitUntilProcessed(id)
                #expect(try await HTTPTestClient.send("GET", URL(string: ready["url"] as! String)!).body == job.bytes)
            }
        }
    }

    private func createResumable(_ s: MediaTestServer, bytes: Data, name: String) async throws -> (URL, String, URL, Data) {
        let r = try await s.call("POST", "/files/generate-resumable-upload-url", ["mimeType": "application/octet-stream", "fileName": name])
        let endpoint = URL(string: try #require(r.json?["uploadUrl"] as? String))!
        let token = try #require(r.json?["uploadToken"] as? String)
        let metadata = "filename \(Data(name.utf8).base64EncodedString()),token \(Data(token.utf8).base64EncodedString())"
        let created = try await HTTPTestClient.send(
            "POST", endpoint, headers: tusHeaders.merging(["Upload-Length": String(bytes.count), "Upload-Metadata": metadata]) { _, b in b })
        #expect(created.status == 201)
        return (endpoint, token, URL(string: try #require(created.header("Location")), relativeTo: endpoint)!.absoluteURL, bytes)
    }

    /// PATCHes the rest of `bytes` with curl, resuming from the server's offset (read with `curl -I`) after a cut.
    private static func patchUntilComplete(_ upload: URL, _ bytes: Data) throws {
        var offset = 0
        for _ in 0..<20 where offset < bytes.count {
            let headers = ["Tus-Resumable": "1.0.0", "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream"]
            _ = try Curl.send("PATCH", upload, headers: headers, body: Data(bytes[offset...]))
            let head = try ProcessRunner.run("curl", ["-s", "-I", "-H", "Tus-Resumable: 1.0.0", upload.absoluteString])
            let line = head.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("upload-offset:") }
            offset = line.flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? offset
        }
        #expect(offset == bytes.count)
    }
}
