import Foundation
import TestSupport
import Testing

/// API keys, signed upload URLs, and hostile input: each refused with a 4xx and a JSON message, and the
/// service keeps serving with its stored data untouched.
@Suite struct SecurityTests {
    @Test func apiKeyIsRequiredOnManagementCalls() async throws {
        try await withMediaServer(apiKey: "k3y") { s in
            let none = try await HTTPTestClient.send("GET", s.api("/files"))
            #expect(none.status == 401)
            #expect(none.errorMessage?.contains("Authorization") == true)
            let wrong = try await HTTPTestClient.send("GET", s.api("/files"), headers: ["Authorization": "k3x"])
            #expect(wrong.status == 403)
            #expect(wrong.errorMessage != nil)
            let prefix = try await HTTPTestClient.send("GET", s.api("/files"), headers: ["Authorization": "k3"])
            #expect(prefix.status == 403)
            #expect(try await s.get("/files").status == 200)
            let bearer = try await HTTPTestClient.send("GET", s.api("/files"), headers: ["Authorization": "Bearer k3y"])
            #expect(bearer.status == 200)
            // Upload URLs need no key: the signed URL is the credential.
            let file = try await s.uploadPlain(Data("x".utf8), name: "x.txt")
            #expect(file["id"] != nil)
        }
    }

    @Test func forgedAndTamperedUploadURLsAre403() async throws {
        try await withMediaServer { s in
            let url = try await s.uploadURL(name: "a.bin")
            let ticket = String(url.split(separator: "/").last!)
            let parts = ticket.split(separator: ".")
            var mac = Array(parts[1])
            mac[3] = mac[3] == "A" ? "B" : "A"
            let forged = url.replacingOccurrences(of: ticket, with: "\(parts[0]).\(String(mac))")
            let payload = Data(base64Encoded: String(parts[0]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/").padding(toLength: (parts[0].count + 3) / 4 * 4, withPad: "=", startingAt: 0))!
            let tamperedPayload = String(decoding: payload, as: UTF8.self).replacingOccurrences(of: "\"isPrivate\":false", with: "\"isPrivate\":true")
            let tampered = url.replacingOccurrences(
                of: String(parts[0]),
                with: Data(tamperedPayload.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: ""))
            for bad in [forged, tampered, url + "x", s.baseURL.absoluteString + "/upload/put/garbage", s.baseURL.absoluteString + "/upload/put/..%2F..%2Fetc"] {
                let r = try await HTTPTestClient.send("PUT", URL(string: bad + "?filename=a.bin")!, body: Data("hello".utf8))
                #expect(r.status == 403, "\(bad)")
                #expect(r.errorMessage?.contains("signature") == true)
            }
            let good = try await HTTPTestClient.send("PUT", URL(string: url + "?filename=a.bin")!, body: Data("hello".utf8))
            #expect(good.status == 200)
            let reused = try await HTTPTestClient.send("PUT", URL(string: url + "?filename=a.bin")!, body: Data("other".utf8))
            #expect(reused.status == 403)
            #expect(reused.errorMessage?.contains("already used") == true)
            let id = try #require((good.json?["file"] as? [String: Any])?["id"] as? String)
            let d = try await s.waitUntilProcessed(id)
            let content = try await HTTPTestClient.send("GET", URL(string: d["url"] as! String)!)
            #expect(content.text == "hello")
        }
    }

    @Test func expiredUploadURLIs403() async throws {
        try await withMediaServer(expireAfter: .seconds(1)) { s in
            let url = try await s.uploadURL(name: "late.bin")
            try await Task.sleep(for: .milliseconds(1300))
            let r = try await HTTPTestClient.send("PUT", URL(string: url + "?filename=late.bin")!, body: Data("x".utf8))
            #expect(r.status == 403)
            #expect(r.errorMessage?.contains("expired") == true)
        }
    }

    @Test func oversizedAndMalformedJSON() async throws {
        try await withMediaServer { s in
            let stored = try await s.uploadPlain(Data("keep me".utf8), name: "keep.txt")
            let big = Data(("{\"mimeType\":\"" + String(repeating: "a", count: 2 << 20) + "\"}").utf8)
            let r = try await HTTPTestClient.send("POST", s.api("/files/generate-upload-url"), headers: ["Content-Type": "application/json"], body: big)
            #expect(r.status == 413)
            #expect(r.errorMessage != nil)
            let bad = try await HTTPTestClient.send("POST", s.api("/files/generate-upload-url"), headers: ["Content-Type": "application/json"], body: Data("{nope".utf8))
            #expect(bad.status == 400)
            #expect(bad.errorMessage?.contains("JSON") == true)
            let missing = try await s.call("POST", "/files/generate-upload-url", ["fileName": "a.txt"])
            #expect(missing.status == 400)
            #expect(missing.errorMessage?.contains("mimeType") == true)
            let empty = try await HTTPTestClient.send("POST", s.api("/files/generate-upload-url"))
            #expect(empty.status == 400)
            // Still serving, data untouched.
            let d = try await s.waitUntilProcessed(stored["id"] as! String)
            #expect(try await HTTPTestClient.send("GET", URL(string: d["url"] as! String)!).text == "keep me")
        }
    }

    @Test(arguments: ["../evil.txt", "a/b.txt", "..", "nul\u{0}byte.txt", "line\nbreak.txt", String(repeating: "x", count: 201)])
    func hostileFileNamesAre400(_ name: String) async throws {
        try await withMediaServer { s in
            let r = try await s.call("POST", "/files/generate-upload-url", ["mimeType": "text/plain", "fileName": name])
            #expect(r.status == 400)
            #expect(r.errorMessage?.contains("fileName") == true)
            let url = try await s.uploadURL(name: "ok.txt")
            var components = URLComponents(string: url)!
            components.queryItems = [URLQueryItem(name: "filename", value: name)]
            let put = try await HTTPTestClient.send("PUT", components.url!, body: Data("x".utf8))
            #expect(put.status == 400)
            #expect(FileManager.default.fileExists(atPath: s.data.path + "/evil.txt") == false)
        }
    }

    @Test(arguments: ["/a/../b", "/a/./b", "/x\u{0}y"])
    func hostileFilePathsAre400(_ path: String) async throws {
        try await withMediaServer { s in
            let r = try await s.call("POST", "/files/generate-upload-url", ["mimeType": "text/plain", "filePath": path])
            #expect(r.status == 400)
            #expect(r.errorMessage != nil)
        }
    }

    @Test func hostileIDsAre4xx() async throws {
        try await withMediaServer { s in
            for id in ["../../etc/passwd", "%2E%2E%2Fsigning.key", "abc%00", "000000_00000000000000000000000000000000~mv2.txt"] {
                let r = try await s.get("/files/get-file-by-id?fileId=\(id)")
                #expect(r.status == 404, "\(id)")
                #expect(r.errorMessage != nil)
                let media = try await HTTPTestClient.send("GET", URL(string: s.baseURL.absoluteString + "/media/" + id)!)
                #expect(media.status == 404)
            }
            let folder = try await s.get("/folders/..%2F..")
            #expect(folder.status == 400)
            let unknownRoute = try await s.get("/nothing/here")
            #expect(unknownRoute.status == 404)
            #expect(unknownRoute.errorMessage != nil)
        }
    }
}
