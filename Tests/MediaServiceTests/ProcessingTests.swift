import BackgroundServices
import Crypto
import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing
import TusCore

/// PENDING → READY/FAILED, webhooks, import, and metrics.
@Suite struct ProcessingTests {
    /// Empty files are files too (`touch`, `.keep`, `__init__.py`): they become READY like any other.
    @Test func emptyFileBecomesReady() async throws {
        try await withMediaServer { s in
            let file = try await s.uploadPlain(Data(), name: "empty.txt")
            #expect(file["operationStatus"] as? String == "PENDING")
            let done = try await s.waitUntilProcessed(file["id"] as! String)
            #expect(done["operationStatus"] as? String == "READY")
            #expect(done["sizeInBytes"] as? String == "0")
        }
    }

    @Test func injectedProcessingFailure() async throws {
        try await withMediaServer(processingFailureRate: 1) { s in
            let file = try await s.uploadPlain(Data("abc".utf8), name: "a.txt")
            let done = try await s.waitUntilProcessed(file["id"] as! String)
            #expect(done["operationStatus"] as? String == "FAILED")
        }
    }

    @Test func readyFileHasHashAndSize() async throws {
        try await withMediaServer(processingDelay: .milliseconds(1500)) { s in
            let bytes = randomBytes(10_000)
            let file = try await s.uploadPlain(bytes, name: "r.bin")
            let pending = try await s.descriptor(file["id"] as! String)
            #expect(pending["operationStatus"] as? String == "PENDING")
            let done = try await s.waitUntilProcessed(file["id"] as! String)
            #expect(done["operationStatus"] as? String == "READY")
            #expect(done["sizeInBytes"] as? String == "10000")
            #expect(done["hash"] as? String == SHA256.hash(data: bytes).lowercaseHex)
        }
    }

    @Test func webhooksAreSignedAndSent() async throws {
        let receiver = try await WebhookReceiver.start()
        do {
            try await checkWebhooks(receiver)
        } catch {
            await receiver.stop()
            throw error
        }
        await receiver.stop()
    }

    private func checkWebhooks(_ receiver: WebhookReceiver) async throws {
        // One file READY, then (on a service that fails every file) one FAILED.
        var ok: [String: Any] = [:]
        var bad: [String: Any] = [:]
        try await withMediaServer(apiKey: "hook-key", webhook: receiver.url, webhookSecret: "hook-secret") { s in
            ok = try await s.uploadPlain(Data("ok".utf8), name: "ok.txt", extra: ["externalInfo": ["origin": "test", "externalIds": ["42"]]])
            _ = try await s.waitUntilProcessed(ok["id"] as! String)
        }
        try await withMediaServer(apiKey: "hook-key", processingFailureRate: 1, webhook: receiver.url, webhookSecret: "hook-secret") { s in
            bad = try await s.uploadPlain(Data("bad".utf8), name: "bad.txt")
            _ = try await s.waitUntilProcessed(bad["id"] as! String)
        }
        var events: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(10)
        while events.count < 2, Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            events = receiver.events()
        }
        #expect(events.count == 2)
        #expect(Set(events.compactMap { event in
            (try? JSONSerialization.jsonObject(with: Data((event["body"] as? String ?? "").utf8)) as? [String: Any])?["slug"] as? String
        }) == ["file_ready", "file_failed"])
        for event in events {
            let body = Data((event["body"] as? String ?? "").utf8)
            let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data("hook-secret".utf8)))
            #expect(event["signature"] as? String == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
            let envelope = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            #expect(envelope["entityFqdn"] as? String == "wix.media.site_media.v1.file_descriptor")
            if envelope["slug"] as? String == "file_ready" {
                #expect(envelope["entityId"] as? String == ok["id"] as? String)
                let payload = (envelope["actionEvent"] as? [String: Any])?["body"] as? [String: Any]
                #expect((payload?["file"] as? [String: Any])?["operationStatus"] as? String == "READY")
                #expect((payload?["externalInfo"] as? [String: Any])?["origin"] as? String == "test")
            } else {
                #expect(envelope["slug"] as? String == "file_failed")
                #expect(envelope["entityId"] as? String == bad["id"] as? String)
            }
        }
    }

    @Test func importFetchesInTheBackground() async throws {
        try await withMediaServer(importAllowPrivate: true) { s in
            let bytes = randomBytes(70_000)
            let source = try await s.uploadPlain(bytes, name: "source.bin")
            let sourceReady = try await s.waitUntilProcessed(source["id"] as! String)
            let imported = try await s.call("POST", "/files/import", ["url": sourceReady["url"] as! String, "displayName": "copy.bin"])
            #expect(imported.status == 200, "\(imported.text)")
            let file = try #require(imported.json?["file"] as? [String: Any])
            #expect(file["operationStatus"] as? String == "PENDING")
            #expect(file["sourceUrl"] as? String == sourceReady["url"] as? String)
            let done = try await s.waitUntilProcessed(file["id"] as! String)
            #expect(done["operationStatus"] as? String == "READY")
            #expect(done["hash"] as? String == sourceReady["hash"] as? String)
            #expect(try await HTTPTestClient.send("GET", URL(string: done["url"] as! String)!).body == bytes)

            let unreachable = try await s.call("POST", "/files/import", ["url": "http://127.0.0.1:\(try LoopbackPort.free())/nothing.jpg"])
            #expect(unreachable.status == 200)
            let failed = try await s.waitUntilProcessed((unreachable.json?["file"] as? [String: Any])?["id"] as! String, timeout: 40)
            #expect(failed["operationStatus"] as? String == "FAILED")
            let missing = try await s.call("POST", "/files/import", ["url": s.baseURL.absoluteString + "/media/nope"])
            let notFound = try await s.waitUntilProcessed((missing.json?["file"] as? [String: Any])?["id"] as! String)
            #expect(notFound["operationStatus"] as? String == "FAILED")
            for bad in ["ftp://example.com/x", "file:///etc/passwd", "not a url", ""] {
                let r = try await s.call("POST", "/files/import", ["url": bad])
                #expect(r.status == 400, "\(bad)")
            }
        }
    }

    @Test func metricsCountBytesAndRequests() async throws {
        try await withMediaServer { s in
            _ = try await s.uploadPlain(randomBytes(12_345), name: "m.bin")
            _ = try await s.uploadPlain(randomBytes(655), name: "n.bin")
            let metrics = try await HTTPTestClient.send("GET", s.baseURL.appendingPathComponent("metrics"))
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("tusfs_server_bytes_received_total 13000\n"))
            #expect(metrics.text.contains("tusfs_server_requests_total{method=\"PUT\",route=\"/upload/put/{ticket}\",status=\"200\"} 2"))
        }
    }
}

/// A webhook endpoint on loopback (a Hummingbird app in the test process) that records each POST's body and
/// signature header.
final class WebhookReceiver: Sendable {
    struct Event: Sendable {
        let body: String
        let signature: String
    }
    final class EventLog: Sendable {
        let events = Mutex<[Event]>([])
    }

    let url: URL
    private let log: EventLog
    private let background: BackgroundService<Int>

    private init(log: EventLog, background: BackgroundService<Int>) {
        self.url = URL(string: "http://127.0.0.1:\(background.value)/hook")!
        self.log = log
        self.background = background
    }

    static func start() async throws -> WebhookReceiver {
        let log = EventLog()
        let router = Router()
        router.post("hook") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 1 << 20)
            let signature = request.headers.first { $0.name.canonicalName == "x-tusfs-signature" }?.value ?? ""
            log.events.withLock { $0.append(Event(body: String(buffer: body), signature: signature)) }
            return .noContent
        }
        let background = try await BackgroundService<Int>.start(logger: .init(label: "webhook")) { listening in
            Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { await listening($0.localAddress?.port ?? 0) })
        }
        return WebhookReceiver(log: log, background: background)
    }

    func events() -> [[String: Any]] {
        log.events.withLock { $0 }.map { ["body": $0.body, "signature": $0.signature] }
    }

    func stop() async {
        await background.stop()
    }
}
