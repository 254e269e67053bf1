import Foundation
import Testing

@testable import MediaManagerClient
@testable import TusClient

/// Small pure pieces: OPTIONS parsing, metadata, HTTP dates, URLs, and that secrets stay out of descriptions.
@Suite("protocol details")
struct ProtocolDetailsTests {
    @Test("OPTIONS headers become capabilities")
    func capabilities() {
        let headers = [
            "Tus-Version": "1.0.0,0.2.2", "Tus-Extension": "creation, creation-with-upload,checksum,termination",
            "Tus-Max-Size": "1073741824", "Tus-Checksum-Algorithm": "SHA1,md5",
        ]
        let parsed = TusServerCapabilities.parse { headers[$0] }
        #expect(parsed.versions == ["1.0.0", "0.2.2"])
        #expect(parsed.supports("creation-with-upload"))
        #expect(parsed.maxSize == 1 << 30)
        #expect(parsed.acceptsSHA1Checksum)
        #expect(!TusServerCapabilities.parse { _ in nil }.acceptsSHA1Checksum)
    }

    @Test("metadata is encoded with TusCore and bad keys are refused before any request")
    func metadata() throws {
        let header = try TusMetadataEncoding.encode(["filename": "a b.txt", "empty": ""])
        #expect(header.split(separator: ",").sorted() == ["empty", "filename YSBiLnR4dA=="])
        #expect(throws: TusError.self) { try TusMetadataEncoding.encode(["bad key": "x"]) }
    }

    @Test("HTTP dates round-trip")
    func httpDate() throws {
        let date = try #require(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT"))
        #expect(date.timeIntervalSince1970 == 784_111_777)
        #expect(HTTPDate.format(date) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    @Test("an endpoint without the API prefix gets it; upload URL queries are kept and plus signs encoded")
    func urls() throws {
        #expect(MediaManagerClient.apiBase(URL(string: "http://127.0.0.1:8080/")!).absoluteString == "http://127.0.0.1:8080/site-media/v1")
        #expect(
            MediaManagerClient.apiBase(URL(string: "https://www.wixapis.com/site-media/v1")!).absoluteString
                == "https://www.wixapis.com/site-media/v1")
        let url = try MediaManagerClient.url("http://h/upload?sig=a%2Bb", adding: [URLQueryItem(name: "filename", value: "c++ notes.txt")])
        #expect(url.absoluteString == "http://h/upload?sig=a%2Bb&filename=c%2B%2B%20notes.txt")
    }

    @Test("credentials never print the key")
    func redaction() {
        let credentials = MediaManagerCredentials(apiKey: "super-secret", siteID: "site")
        #expect(!"\(credentials)".contains("super-secret"))
        #expect(!String(reflecting: credentials).contains("super-secret"))
    }
}
