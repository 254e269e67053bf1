import Foundation
import Testing

@testable import MediaManagerClient

/// Small pure pieces of the Media Manager client: URLs, and that secrets stay out of descriptions.
@Suite("Media Manager client details")
struct MediaManagerClientDetailsTests {
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
