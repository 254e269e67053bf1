import Foundation
import TestSupport
import Testing

/// Files are served so that none runs as a page of the service's origin: `nosniff` and a sandbox on every file,
/// active types (HTML, SVG, XML, scripts) as downloads; and the MIME and media types a client names must be real.
@Suite struct ActiveContentTests {
    private func served(_ s: MediaTestServer, _ bytes: String, name: String, mimeType: String) async throws -> HTTPTestResponse {
        let file = try await s.uploadPlain(Data(bytes.utf8), name: name, mimeType: mimeType)
        let ready = try await s.waitUntilProcessed(try #require(file["id"] as? String))
        return try await HTTPTestClient.send("GET", URL(string: try #require(ready["url"] as? String))!)
    }

    @Test(arguments: [
        ("page.html", "text/html"), ("page.xhtml", "application/xhtml+xml"), ("logo.svg", "image/svg+xml"),
        ("feed.xml", "text/xml"), ("data.xml", "application/xml"), ("app.js", "text/javascript"),
        ("app2.js", "application/javascript"), ("doc.pdf", "application/pdf"),
    ])
    func activeTypesAreServedAsDownloads(_ name: String, _ mimeType: String) async throws {
        try await withMediaServer { s in
            let r = try await served(s, "<script>alert(document.cookie)</script>", name: name, mimeType: mimeType)
            #expect(r.status == 200)
            #expect(r.header("Content-Type") == mimeType)
            #expect(r.header("X-Content-Type-Options") == "nosniff")
            #expect(r.header("Content-Security-Policy") == "sandbox")
            let disposition = try #require(r.header("Content-Disposition"), "\(name) must be a download")
            #expect(disposition.hasPrefix("attachment;"))
            #expect(disposition.contains("filename*=UTF-8''\(name)"))
        }
    }

    @Test(arguments: [("photo.png", "image/png"), ("clip.mp4", "video/mp4"), ("notes.txt", "text/plain"), ("song.mp3", "audio/mpeg")])
    func passiveTypesAreShownInlineWithoutSniffing(_ name: String, _ mimeType: String) async throws {
        try await withMediaServer { s in
            let r = try await served(s, "<html><script>alert(1)</script></html>", name: name, mimeType: mimeType)
            #expect(r.header("Content-Type") == mimeType)
            #expect(r.header("X-Content-Type-Options") == "nosniff")
            #expect(r.header("Content-Security-Policy") == "sandbox")
            #expect(r.header("Content-Disposition") == nil)
        }
    }

    @Test func downloadNamesAreQuotedSafely() async throws {
        try await withMediaServer { s in
            let r = try await served(s, "<p>", name: "a \"b\"; c=d é.html", mimeType: "text/html")
            let disposition = try #require(r.header("Content-Disposition"))
            #expect(disposition == "attachment; filename=\"a _b__ c_d _.html\"; filename*=UTF-8''a%20%22b%22%3B%20c%3Dd%20%C3%A9.html")
        }
    }

    @Test(arguments: ["text", "text/", "/html", "foo/bar", "text/html garbage", "text/h\u{0}tml", "image/png;", "ïmage/png", "*/*"])
    func unknownMimeTypesAre400(_ mimeType: String) async throws {
        try await withMediaServer(importAllowPrivate: true) { s in
            let generated = try await s.call("POST", "/files/generate-upload-url", ["mimeType": mimeType, "fileName": "a.bin"])
            #expect(generated.status == 400, "\(mimeType.debugDescription): \(generated.text)")
            #expect(generated.errorMessage?.contains("mimeType") == true)
            let imported = try await s.call("POST", "/files/import", ["url": "http://127.0.0.1:9/a.bin", "mimeType": mimeType])
            #expect(imported.status == 400, "\(mimeType.debugDescription): \(imported.text)")
            #expect(imported.errorMessage?.contains("mimeType") == true)
        }
    }

    @Test func knownMimeTypesAreStoredInTheirPlainForm() async throws {
        try await withMediaServer { s in
            let r = try await served(s, "x", name: "x.txt", mimeType: "Text/Plain; charset=utf-8")
            #expect(r.header("Content-Type") == "text/plain")
            #expect(r.header("Content-Disposition") == nil)
        }
    }

    @Test func garbageContentTypeOnAPutIs400() async throws {
        try await withMediaServer { s in
            let url = try await s.uploadURL(name: "a.bin")
            let r = try await HTTPTestClient.send(
                "PUT", URL(string: url + "?filename=a.bin")!, headers: ["Content-Type": "not a type"], body: Data("x".utf8))
            #expect(r.status == 400, "\(r.text)")
            #expect(r.errorMessage?.contains("Content-Type") == true)
        }
    }

    @Test func unknownMediaTypesAre400() async throws {
        try await withMediaServer(importAllowPrivate: true) { s in
            let imported = try await s.call("POST", "/files/import", ["url": "http://127.0.0.1:9/a.png", "mediaType": "EXECUTABLE"])
            #expect(imported.status == 400, "\(imported.text)")
            #expect(imported.errorMessage?.contains("mediaType") == true)
            let searched = try await s.call("POST", "/files/search", ["mediaTypes": ["IMAGE", "<b>"]])
            #expect(searched.status == 400, "\(searched.text)")
            let listed = try await s.get("/files?mediaTypes=IMAGE,nonsense")
            #expect(listed.status == 400, "\(listed.text)")
            #expect(try await s.call("POST", "/files/search", ["mediaTypes": ["IMAGE", "VIDEO"]]).status == 200)
        }
    }
}
