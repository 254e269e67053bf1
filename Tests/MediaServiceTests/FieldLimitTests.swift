import Foundation
import TestSupport
import Testing

/// Limits that cannot be got round: names counted in Unicode scalars, no bidirectional controls, bounded
/// `externalInfo` and search text, and LIKE wildcards in a search matched as themselves.
@Suite struct FieldLimitTests {
    @Test(arguments: [
        "e" + String(repeating: "\u{301}", count: 10_000),  // one Character, 10,001 scalars
        String(repeating: "é", count: 201),
        "invoice\u{202E}fdp.exe", "a\u{2066}b", "a\u{200F}b", "a\u{200E}b", "a\u{061C}b", "a\u{0085}b", "a\u{2028}b",
    ])
    func namesThatLookShortOrDisplayFalselyAre400(_ name: String) async throws {
        try await withMediaServer { s in
            let r = try await s.call("POST", "/files/generate-upload-url", ["mimeType": "text/plain", "fileName": name])
            #expect(r.status == 400, "\(r.text.prefix(200))")
            #expect(r.errorMessage?.contains("fileName") == true)
            let folder = try await s.call("POST", "/folders", ["displayName": name])
            #expect(folder.status == 400)
            let labels = try await s.call("POST", "/files/generate-upload-url", ["mimeType": "text/plain", "labels": [name]])
            #expect(labels.status == 400)
        }
    }

    @Test func namesOfTwoHundredScalarsAreAccepted() async throws {
        try await withMediaServer { s in
            let name = String(repeating: "日", count: 196) + ".txt"
            let file = try await s.uploadPlain(Data("x".utf8), name: name)
            #expect(file["displayName"] as? String == name)
            let emoji = "👩‍👩‍👧‍👦.png"  // zero-width joiners stay allowed
            let other = try await s.uploadPlain(Data("y".utf8), name: emoji)
            #expect(other["displayName"] as? String == emoji)
        }
    }

    @Test func externalInfoIsBounded() async throws {
        try await withMediaServer(importAllowPrivate: true) { s in
            var infos: [[String: Any]] = []
            infos.append(["origin": String(repeating: "o", count: 900_000)])
            infos.append(["origin": String(repeating: "o", count: 101)])
            infos.append(["externalIds": (0..<150_000).map { String($0) }])
            infos.append(["externalIds": (0..<51).map { String($0) }])
            infos.append(["externalIds": [String(repeating: "i", count: 101)]])
            infos.append(["origin": "a\u{0}b"])
            for info in infos {
                let r = try await s.call("POST", "/files/generate-upload-url", ["mimeType": "text/plain", "externalInfo": info])
                #expect(r.status == 400 || r.status == 413, "\(r.text.prefix(200))")
                #expect(r.errorMessage != nil)
                let imported = try await s.call("POST", "/files/import", ["url": "http://127.0.0.1:9/a", "externalInfo": info])
                #expect(imported.status == 400 || imported.status == 413)
            }
            let atLimit: [String: Any] = ["origin": String(repeating: "o", count: 100), "externalIds": (0..<50).map { String(repeating: "\($0 % 10)", count: 100) }]
            let file = try await s.uploadPlain(Data("x".utf8), name: "x.txt", extra: ["externalInfo": atLimit])
            #expect(file["id"] != nil)
        }
    }

    @Test func uploadURLsStayUsableAtTheirLargest() async throws {
        try await withMediaServer { s in
            // 100 labels of 100 two-byte characters and the largest externalInfo: past the 32 KiB ticket limit.
            let ids = (0..<50).map { String(repeating: "\($0 % 10)", count: 100) }
            let tooLarge = try await s.call(
                "POST", "/files/generate-upload-url",
                ["mimeType": "text/plain", "labels": (0..<100).map { "\($0)" + String(repeating: "é", count: 97) },
                 "externalInfo": ["origin": String(repeating: "o", count: 100), "externalIds": ids]])
            #expect(tooLarge.status == 400, "\(tooLarge.text.prefix(300))")
            #expect(tooLarge.errorMessage?.contains("too large for an upload URL") == true)
            // Just under the limit, the URL is served.
            let labels = (0..<100).map { "\($0)" + String(repeating: "é", count: 80) }
            let url = try await s.uploadURL(name: "big.txt", mimeType: "text/plain",
                extra: ["labels": labels, "externalInfo": ["origin": String(repeating: "o", count: 100), "externalIds": ids]])
            #expect(url.utf8.count > 28_000, "\(url.utf8.count)")
            let put = try await HTTPTestClient.send("PUT", URL(string: url + "?filename=big.txt")!, body: Data("x".utf8))
            #expect(put.status == 200, "\(put.text)")
        }
    }

    @Test func searchTextIsBoundedAndWildcardsAreLiteral() async throws {
        try await withMediaServer { s in
            for name in ["a_c.txt", "abc.txt", "50%.txt", "500.txt", "back\\slash.txt", "backxslash.txt"] {
                _ = try await s.uploadPlain(Data("x".utf8), name: name)
            }
            func search(_ text: String) async throws -> [String] {
                let r = try await s.call("POST", "/files/search", ["search": text])
                #expect(r.status == 200, "\(r.text)")
                return ((r.json?["files"] as? [[String: Any]]) ?? []).compactMap { $0["displayName"] as? String }.sorted()
            }
            #expect(try await search("_") == ["a_c.txt"])
            #expect(try await search("a_c") == ["a_c.txt"])
            #expect(try await search("%") == ["50%.txt"])
            #expect(try await search("\\") == ["back\\slash.txt"])
            #expect(try await search("abc") == ["abc.txt"])
            let long = try await s.call("POST", "/files/search", ["search": String(repeating: "a", count: 60_000)])
            #expect(long.status == 400, "\(long.text.prefix(200))")
            #expect(long.errorMessage?.contains("search") == true)
            #expect(try await search(String(repeating: "a", count: 200)) == [])
        }
    }
}
