import Crypto
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing
import TusCore

/// Credentials stay where they belong: upload tickets out of the log, and webhooks signed with a key of their own,
/// never the API key.
@Suite struct SecretsTests {
    @Test func uploadTicketsAreNotLogged() async throws {
        let lines = LogLines()
        var logger = Logger(label: "tusfs.serve") { _ in lines }
        logger.logLevel = .trace
        try await withMediaServer(logger: logger) { s in
            let put = try await s.uploadURL(name: "a.bin")
            let ticket = String(try #require(put.components(separatedBy: "/upload/put/").last))
            // Refused requests are logged with their paths.
            let badName = try await HTTPTestClient.send("PUT", URL(string: put + "?filename=..")!, body: Data("x".utf8))
            #expect(badName.status == 400)

            let r = try await s.call(
                "POST", "/files/generate-resumable-upload-url", ["mimeType": "video/mp4", "fileName": "v.mp4", "uploadProtocol": "TUS"])
            let tus = try #require(r.json?["uploadUrl"] as? String)
            let token = try #require(r.json?["uploadToken"] as? String)
            let tusTicket = String(try #require(tus.components(separatedBy: "/upload/tus/").last))
            let early = try await HTTPTestClient.send("PUT", URL(string: tus + "/" + token + "?filename=v.mp4")!)
            #expect(early.status == 409)
            let unknown = try await HTTPTestClient.send("HEAD", URL(string: tus + "/0123456789abcdef0123456789abcdef")!, headers: tusHeaders)
            #expect(unknown.status == 404)

            let logged = lines.all()
            #expect(logged.contains { $0.contains("/upload/put/…") }, "refusals are still logged: \(logged)")
            #expect(logged.contains { $0.contains("/upload/tus/…/0123456789abcdef0123456789abcdef") }, "tus upload ids stay: \(logged)")
            for secret in [ticket, tusTicket, token] {
                #expect(!logged.contains { $0.contains(secret) }, "a credential is in the log: \(logged.filter { $0.contains(secret) })")
            }
        }
    }

    @Test func webhooksAreSignedWithTheirOwnKeyByDefault() async throws {
        let receiver = try await WebhookReceiver.start()
        do {
            var secretFile = ""
            try await withMediaServer(apiKey: "management-key", webhook: receiver.url) { s in
                secretFile = s.data.path + "/webhook-secret"
                let file = try await s.uploadPlain(Data("ok".utf8), name: "ok.txt")
                _ = try await s.waitUntilProcessed(try #require(file["id"] as? String))
                try await waitUntil("the webhook arrived") { !receiver.events().isEmpty }
                let secret = try String(contentsOfFile: secretFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(secret.count == 64)
                let mode = try FileManager.default.attributesOfItem(atPath: secretFile)[.posixPermissions] as? Int
                #expect(mode == 0o600)
                let event = try #require(receiver.events().first)
                let body = Data((event["body"] as? String ?? "").utf8)
                func signature(_ key: String) -> String {
                    "sha256=" + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(key.utf8))).lowercaseHex
                }
                #expect(event["signature"] as? String == signature(secret))
                #expect(event["signature"] as? String != signature("management-key"))
            }
        } catch {
            await receiver.stop()
            throw error
        }
        await receiver.stop()
    }
}

/// A log handler that keeps every message with its metadata, for tests that read what was logged.
final class LogLines: LogHandler, Sendable {
    private let lines = Mutex<[String]>([])
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        lines.withLock { $0.append("\(event.message) \(event.metadata ?? [:])") }
    }

    func all() -> [String] { lines.withLock { $0 } }
}
