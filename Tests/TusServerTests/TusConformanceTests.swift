import Foundation
import TestSupport
import Testing
import TusCore
import TusServer

/// The tus 1.0.0 core and extensions, status code by status code, against a real server on loopback.
@Suite struct TusConformanceTests {
    private func create(_ s: TusTestServer, length: Int, metadata: String = "filename dGVzdC5iaW4=") async throws -> URL {
        let r = try await HTTPTestClient.send(
            "POST", s.endpoint, headers: tus.with(["Upload-Length": String(length), "Upload-Metadata": metadata]))
        #expect(r.status == 201, "\(r.text)")
        return try s.uploadURL(r.header("Location"))
    }

    private func patch(_ url: URL, offset: Int, _ data: Data, headers: [String: String] = [:]) async throws -> HTTPTestResponse {
        try await HTTPTestClient.send(
            "PATCH", url,
            headers: tus.with(["Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream"]).with(headers),
            body: data)
    }

    /// A GET of a finished upload's URL gives its data back (as tusd does), as an attachment of no particular
    /// type; an unfinished one is 409, an unknown one 404; a server configured not to serve data has no GET.
    @Test func aFinishedUploadIsGivenBackByAGet() async throws {
        try await withTusServer { s in
            let data = randomBytes(200_000)
            let url = try await create(s, length: data.count, metadata: "filename PHNjcmlwdD4=,filetype dGV4dC9odG1s")
            #expect(try await patch(url, offset: 0, data[0..<100_000]).status == 204)
            let unfinished = try await HTTPTestClient.send("GET", url)
            #expect(unfinished.status == 409, "\(unfinished.text)")
            #expect(unfinished.text.contains("not finished"))
            #expect(try await patch(url, offset: 100_000, data[100_000...]).status == 204)
            let finished = try await HTTPTestClient.send("GET", url)
            #expect(finished.status == 200)
            #expect(finished.body == data)
            #expect(finished.header("Content-Type") == "application/octet-stream")
            #expect(finished.header("Content-Disposition") == "attachment")
            #expect(finished.header("X-Content-Type-Options") == "nosniff")
            let unknown = try await HTTPTestClient.send("GET", s.endpoint.appendingPathComponent("0123456789abcdef"))
            #expect(unknown.status == 404)
        }
        try await withTusServer(servesData: false) { s in
            let data = randomBytes(1000)
            let url = try await create(s, length: data.count)
            #expect(try await patch(url, offset: 0, data).status == 204)
            let refused = try await HTTPTestClient.send("GET", url)
            #expect(refused.status == 404 || refused.status == 405, "\(refused.status)")
        }
    }

    @Test func optionsAdvertisesTheServer() async throws {
        try await withTusServer { s in
            let r = try await HTTPTestClient.send("OPTIONS", s.endpoint)
            #expect(r.status == 204)
            #expect(r.header("Tus-Version") == "1.0.0")
            #expect(r.header("Tus-Max-Size") == String(1 << 20))
            let extensions = TusExtension.parseList(r.header("Tus-Extension") ?? "")
            #expect(extensions.isSuperset(of: [.creation, .creationWithUpload, .creationDeferLength, .expiration, .checksum, .termination]))
            #expect(Set(ChecksumAlgorithm.parseList(r.header("Tus-Checksum-Algorithm") ?? "")) == [.sha1, .md5, .crc32, .sha256])
        }
    }

    @Test func uploadInChunksThenHead() async throws {
        try await withTusServer { s in
            let data = randomBytes(300_000)
            let url = try await create(s, length: data.count)
            var head = try await HTTPTestClient.send("HEAD", url, headers: tus)
            #expect(head.status == 200)
            #expect(head.header("Upload-Offset") == "0")
            #expect(head.header("Upload-Length") == "300000")
            #expect(head.header("Upload-Metadata") == "filename dGVzdC5iaW4=")
            #expect(head.header("Cache-Control") == "no-store")
            #expect(head.header("Tus-Resumable") == "1.0.0")
            var offset = 0
            while offset < data.count {
                let end = min(offset + 100_000, data.count)
                let r = try await patch(url, offset: offset, data[offset..<end])
                #expect(r.status == 204)
                #expect(r.header("Upload-Offset") == String(end))
                offset = end
            }
            head = try await HTTPTestClient.send("HEAD", url, headers: tus)
            #expect(head.header("Upload-Offset") == "300000")
            #expect(s.storedData(url) == data)
        }
    }

    @Test func creationWithUpload() async throws {
        try await withTusServer { s in
            let data = randomBytes(5000)
            let r = try await HTTPTestClient.send(
                "POST", s.endpoint,
                headers: tus.with(["Upload-Length": "8000", "Content-Type": "application/offset+octet-stream"]), body: data)
            #expect(r.status == 201)
            #expect(r.header("Upload-Offset") == "5000")
            #expect(r.header("Upload-Expires")?.hasSuffix("GMT") == true)
            let url = try s.uploadURL(r.header("Location"))
            #expect(s.storedData(url) == data)
        }
    }

    @Test func creationDeferLength() async throws {
        try await withTusServer { s in
            let r = try await HTTPTestClient.send("POST", s.endpoint, headers: tus.with(["Upload-Defer-Length": "1"]))
            #expect(r.status == 201)
            let url = try s.uploadURL(r.header("Location"))
            var head = try await HTTPTestClient.send("HEAD", url, headers: tus)
            #expect(head.header("Upload-Defer-Length") == "1")
            #expect(head.header("Upload-Length") == nil)
            let first = try await patch(url, offset: 0, Data(repeating: 1, count: 10))
            #expect(first.status == 204)
            let last = try await patch(url, offset: 10, Data(repeating: 2, count: 10), headers: ["Upload-Length": "20"])
            #expect(last.status == 204)
            head = try await HTTPTestClient.send("HEAD", url, headers: tus)
            #expect(head.header("Upload-Length") == "20")
            #expect(head.header("Upload-Offset") == "20")
            let changed = try await patch(url, offset: 20, Data(), headers: ["Upload-Length": "30"])
            #expect(changed.status == 400)
        }
    }

    @Test func zeroLengthUploadIsCompleteAtOnce() async throws {
        try await withTusServer { s in
            let url = try await create(s, length: 0)
            let head = try await HTTPTestClient.send("HEAD", url, headers: tus)
            #expect(head.header("Upload-Offset") == "0")
            #expect(head.header("Upload-Length") == "0")
        }
    }

    @Test func missingOrWrongTusResumableIs412() async throws {
        try await withTusServer { s in
            let url = try await create(s, length: 10)
            for headers in [[:], ["Tus-Resumable": "0.2.2"]] {
                let r = try await HTTPTestClient.send("HEAD", url, headers: headers)
                #expect(r.status == 412)
                #expect(r.header("Tus-Version") == "1.0.0")
                let p = try await HTTPTestClient.send(
                    "PATCH", url, headers: headers.with(["Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"]),
                    body: Data(repeating: 7, count: 10))
                #expect(p.status == 412)
                #expect(p.errorMessage?.contains("Tus-Resumable") == true)
                let c = try await HTTPTestClient.send("POST", s.endpoint, headers: headers.with(["Upload-Length": "5"]))
                #expect(c.status == 412)
            }
            #expect(s.storedData(url) == Data())
        }
    }

    @Test func wrongContentTypeIs415() async throws {
        try await withTusServer { s in
            let url = try await create(s, length: 10)
            for type in ["application/octet-stream", "text/plain"] {
                let r = try await patch(url, offset: 0, Data(repeating: 1, count: 10), headers: ["Content-Type": type])
                #expect(r.status == 415)
                #expect(r.errorMessage?.contains("offset+octet-stream") == true)
            }
            #expect(s.storedData(url) == Data())
        }
    }

    @Test func offsetMismatchIs409AndChangesNothing() async throws {
        try await withTusServer { s in
            let url = try await create(s, length: 20)
            #expect(try await patch(url, offset: 0, Data(repeating: 1, count: 5)).status == 204)
            for offset in [0, 3, 10] {
                let r = try await patch(url, offset: offset, Data(repeating: 9, count: 5))
                #expect(r.status == 409)
            }
            #expect(s.storedData(url) == Data(repeating: 1, count: 5))
        }
    }

    @Test(arguments: ["-1", "+1", "1e3", "abc", "", "0x1", "99999999999999999999"])
    func malformedOffsetIs400(_ offset: String) async throws {
        try await withTusServer { s in
            let url = try await create(s, length: 10)
            let r = try await HTTPTestClient.send(
                "PATCH", url, headers: tus.with(["Upload-Offset": offset, "Content-Type": "application/offset+octet-stream"]),
                body: Data(repeating: 1, count: 3))
            #expect(r.status == 400)
            #expect(r.errorMessage != nil)
            #expect(s.storedData(url) == Data())
        }
    }

    @Test(arguments: ["-5", "abc", "1.5", "99999999999999999999"])
    func malformedLengthIs400(_ length: String) async throws {
        try await withTusServer { s in
            let r = try await HTTPTestClient.send("POST", s.endpoint, headers: tus.with(["Upload-Length": length]))
            #expect(r.status == 400)
            #expect(r.errorMessage?.contains("Upload-Length") == true)
        }
    }

    @Test func lengthRulesOnCreation() async throws {
        try await withTusServer { s in
            let huge = try await HTTPTestClient.send("POST", s.endpoint, headers: tus.with(["Upload-Length": String((1 << 20) + 1)]))
            #expect(huge.status == 413)
            let none = try await HTTPTestClient.send("POST", s.endpoint, headers: tus)
            #expect(none.status == 400)
            let both = try await HTTPTestClient.send(
                "POST", s.endpoint, headers: tus.with(["Upload-Length": "5", "Upload-Defer-Length": "1"]))
            #expect(both.status == 400)
            let badDefer = try await HTTPTestClient.send("POST", s.endpoint, headers: tus.with(["Upload-Defer-Length": "2"]))
            #expect(badDefer.status == 400)
        }
    }

    @Test(arguments: [
        "filename not_base64!", "filename dGVzdA=,filename dGVzdA==", "filename dGVzdA==,filename eA==", "a b c",
        "key dGVzdA==,", ",key",
    ])
    func badMetadataIs400(_ metadata: String) async throws {
        try await withTusServer { s in
            let r = try await HTTPTestClient.send(
                "POST", s.endpoint, headers: tus.with(["Upload-Length": "5", "Upload-Metadata": metadata]))
            #expect(r.status == 400)
            #expect(r.errorMessage?.contains("Upload-Metadata") == true)
        }
    }

    @Test func unknownUploadsAre404() async throws {
        try await withTusServer { s in
            let ids = ["0123456789abcdef0123456789abcdef", "..%2F..%2Fetc%2Fpasswd", "abc%00def", "ABCDEF0123456789ABCDEF0123456789"]
            for id in ids {
                let url = URL(string: s.endpoint.absoluteString + "/" + id)!
                let r = try await HTTPTestClient.send("HEAD", url, headers: tus)
                #expect(r.status == 404, "\(id)")
                #expect(r.header("Upload-Offset") == nil)
                let p = try await patch(url, offset: 0, Data([1]))
                #expect(p.status == 404)
                #expect(p.errorMessage == "upload not found")
            }
        }
    }

    @Test func terminationRemovesTheUpload() async throws {
        try await withTusServer { s in
            let url = try await create(s, length: 10)
            #expect(try await patch(url, offset: 0, Data(repeating: 1, count: 4)).status == 204)
            let d = try await HTTPTestClient.send("DELETE", url, headers: tus)
            #expect(d.status == 204)
            let head = try await HTTPTestClient.send("HEAD", url, headers: tus)
            #expect(head.status == 404)
            #expect(try await patch(url, offset: 4, Data([1])).status == 404)
            #expect(s.storedData(url) == nil)
        }
    }

    @Test func expiredUploadIs410() async throws {
        try await withTusServer(lifetime: .seconds(1)) { s in
            let created = try await HTTPTestClient.send("POST", s.endpoint, headers: tus.with(["Upload-Length": "10"]))
            #expect(created.status == 201)
            #expect(created.header("Upload-Expires")?.hasSuffix(" GMT") == true)
            let url = try s.uploadURL(created.header("Location"))
            try await Task.sleep(for: .milliseconds(1500))
            let late = try await patch(url, offset: 0, Data([1]))
            #expect(late.status == 410)
            #expect(late.errorMessage?.contains("expired") == true)
            #expect(try await HTTPTestClient.send("HEAD", url, headers: tus).status == 404)  // removed on expiry
        }
    }

    @Test(arguments: ChecksumAlgorithm.allCases)
    func checksumMismatchIs460AndDiscardsTheChunk(_ algorithm: ChecksumAlgorithm) async throws {
        try await withTusServer { s in
            let data = randomBytes(1000)
            let url = try await create(s, length: 2000)
            let good = UploadChecksum(algorithm: algorithm, digest: algorithm.digest(of: data)).headerValue
            #expect(try await patch(url, offset: 0, data, headers: ["Upload-Checksum": good]).status == 204)
            let other = randomBytes(1000)
            let bad = try await patch(url, offset: 1000, other, headers: ["Upload-Checksum": good])
            #expect(bad.status == 460)
            let head = try await HTTPTestClient.send("HEAD", url, headers: tus)
            #expect(head.header("Upload-Offset") == "1000")
            #expect(s.storedData(url) == data)
            let right = UploadChecksum(algorithm: algorithm, digest: algorithm.digest(of: other)).headerValue
            #expect(try await patch(url, offset: 1000, other, headers: ["Upload-Checksum": right]).status == 204)
            #expect(s.storedData(url) == data + other)
        }
    }

    @Test func unsupportedChecksumIs400() async throws {
        try await withTusServer { s in
            let url = try await create(s, length: 10)
            for header in ["sha512 AAAA", "sha1", "sha1 !!!notbase64"] {
                let r = try await patch(url, offset: 0, Data(repeating: 1, count: 10), headers: ["Upload-Checksum": header])
                #expect(r.status == 400, "\(header)")
            }
            #expect(s.storedData(url) == Data())
        }
    }

    @Test func bodyLongerThanTheUploadIs413() async throws {
        try await withTusServer { s in
            let url = try await create(s, length: 10)
            let r = try await patch(url, offset: 0, Data(repeating: 1, count: 15))
            #expect(r.status == 413)
            let head = try await HTTPTestClient.send("HEAD", url, headers: tus)
            #expect(head.header("Upload-Offset") == "10")
        }
    }

    @Test func secondWriterGets423() async throws {
        try await withTusServer { s in
            let url = try await create(s, length: 10)
            let id = url.lastPathComponent
            try await s.server.store.acquireWriter(id, wait: .zero)
            let r = try await patch(url, offset: 0, Data(repeating: 1, count: 10))
            #expect(r.status == 423)
            await s.server.store.releaseWriter(id)
            #expect(try await patch(url, offset: 0, Data(repeating: 1, count: 10)).status == 204)
        }
    }

    @Test func methodOverride() async throws {
        try await withTusServer { s in
            let url = try await create(s, length: 4)
            let r = try await HTTPTestClient.send(
                "POST", url,
                headers: tus.with([
                    "X-HTTP-Method-Override": "PATCH", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
                ]), body: Data([1, 2, 3, 4]))
            #expect(r.status == 204)
            #expect(r.header("Upload-Offset") == "4")
            let d = try await HTTPTestClient.send("POST", url, headers: tus.with(["X-HTTP-Method-Override": "DELETE"]))
            #expect(d.status == 204)
        }
    }

    @Test func brokenPatchKeepsEveryByteReceived() async throws {
        try await withTusServer(faults: FaultInjection(dropAfterBytes: 70_000)) { s in
            let data = randomBytes(200_000)
            let url = try await create(s, length: data.count)
            let cut = try await offPool {
                try Curl.send("PATCH", url, headers: tus.with(["Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"]), body: data)
            }
            #expect(cut.exit != 0 && cut.status == 0, "the connection should have been cut: \(cut)")
            // The client sees the cut before the server has finished saving what it got: a HEAD at once may
            // still answer the old offset (a client then re-sends a little more). It settles on every byte.
            var head = try await HTTPTestClient.send("HEAD", url, headers: tus)
            for _ in 0..<100 where head.header("Upload-Offset") != "70000" {
                try await Task.sleep(for: .milliseconds(20))
                head = try await HTTPTestClient.send("HEAD", url, headers: tus)
            }
            #expect(head.header("Upload-Offset") == "70000")
            #expect(s.storedData(url) == data.prefix(70_000))
            // Each upload is cut once: the resumed PATCH gets through.
            let r = try await patch(url, offset: 70_000, data[70_000...])
            #expect(r.status == 204)
            #expect(s.storedData(url) == data)
            #expect(s.server.metrics.bytesReceived == 200_000)
        }
    }

    @Test func injectedFailuresAre503() async throws {
        try await withTusServer(faults: FaultInjection(failureRate: 1)) { s in
            let url = try await create(s, length: 4)
            let r = try await patch(url, offset: 0, Data([1, 2, 3, 4]))
            #expect(r.status == 503)
            #expect(s.storedData(url) == Data())
        }
    }
}
