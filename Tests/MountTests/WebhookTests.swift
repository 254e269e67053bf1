import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `tusfs mount --webhook-listen`: the service's File Ready / File Failed webhooks make files READY as soon as
/// it says so, with no status polls; a webhook that never comes leaves the slower polls to find it; a webhook
/// not signed with the shared key changes nothing.
@Suite("Webhooks", .serialized)
struct WebhookTests {
    /// A 0600 file holding a webhook key, in `directory`.
    static func keyFile(in directory: TemporaryDirectory, key: String) throws -> String {
        let path = directory.appending("webhook-key")
        try (key + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        return path
    }

    /// Requests the service answered that ask for files' processing status (the mount's polls).
    static func statusPolls(_ bridge: UploadBridgeFixture) async throws -> Double {
        try await bridge.server.metrics().split(separator: "\n")
            .filter { $0.hasPrefix("tusfs_server_requests_total{") && ($0.contains("files/get-files") || $0.contains("get-file-by-id")) }
            .reduce(0) { $0 + (Double($1.split(separator: " ").last ?? "") ?? 0) }
    }

    /// The service posts a signed File Ready for every file it processes to the mount's listener: small
    /// files (plain PUT) and a 12 MiB one (tus) are all READY with their URL, and the mount never asked the
    /// service for a status (its polls, the fallback, come seconds later).
    @Test func filesAreReadyWhenTheServiceSaysSoWithoutAsking() async throws {
        let secrets = try TemporaryDirectory("webhook-key")
        defer { secrets.remove() }
        let key = try Self.keyFile(in: secrets, key: "hook-" + UUID().uuidString)
        let port = try LoopbackPort.free()
        let source = try TemporaryDirectory("webhook-source")
        defer { source.remove() }
        try NetworkTests.makeSmallFiles(at: source.appending("tree/small"), count: 30)
        try TestFiles.make(source.appending("tree/large.bin"), size: 12 << 20, seed: 77)
        let bridge = try UploadBridgeFixture(
            "webhooks",
            serveArguments: [
                "--webhook", "http://127.0.0.1:\(port)/webhook", "--webhook-secret-file", key, "--processing-delay", "0.3",
            ],
            mountArguments: ["--webhook-listen", "127.0.0.1:\(port)", "--webhook-secret-file", key, "--write-back", "0"])
        defer { bridge.cleanup() }

        let copy = try ProcessRunner.run("cp", ["-r", source.appending("tree"), bridge.mount.path("tree")])
        #expect(copy.succeeded, "\(copy.stderr)")
        let wait = try bridge.wait(timeout: 120)
        #expect(wait.status == 0, "\(wait.stderr.suffix(2000))\n\(bridge.daemonLog.suffix(3000))")
        #expect(try await Self.statusPolls(bridge) == 0, "the mount polled although the webhooks came")
        #expect(try bridge.status("tree/large.bin", "url")?.hasPrefix("http") == true)
        #expect(try bridge.status("tree/small/file-3.dat", "state") == "ready")
        try await UploadBridgeTests.expectServiceMirrors(source.appending("tree"), bridge, under: "tree/")
    }

    /// A service that cannot reach the mount (no `--webhook`): files are READY all the same, found by the
    /// polls. The listener refuses a webhook without the right signature (401, nothing changes), a body over
    /// 1 MiB (413) and what is not an event (400), and takes a signed event of a file it does not know (204).
    @Test func withoutWebhooksThePollsFindFilesAndAForgedOneIsRefused() async throws {
        let secrets = try TemporaryDirectory("webhook-key")
        defer { secrets.remove() }
        let secret = "hook-" + UUID().uuidString
        let key = try Self.keyFile(in: secrets, key: secret)
        let port = try LoopbackPort.free()
        let bridge = try UploadBridgeFixture(
            "webhooks-fallback", serveArguments: ["--processing-delay", "0.2"],
            mountArguments: ["--webhook-listen", "127.0.0.1:\(port)", "--webhook-secret-file", key, "--write-back", "0"])
        defer { bridge.cleanup() }
        let data = try TestFiles.make(bridge.mount.path("clip.bin"), size: 100_000, seed: 5)
        let wait = try bridge.wait(timeout: 120)
        #expect(wait.status == 0, "\(wait.stderr.suffix(2000))\n\(bridge.daemonLog.suffix(3000))")
        #expect(try await Self.statusPolls(bridge) > 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: bridge.mount.path("clip.bin"))) == data)

        let listener = try #require(URL(string: "http://127.0.0.1:\(port)/webhook"))
        let fileID = try #require(try bridge.status("clip.bin", "remote_id"))
        let failed = Data("""
            {"id":"e1","entityFqdn":"wix.media.site_media.v1.file_descriptor","slug":"file_failed","entityId":"\(fileID)",\
            "eventTime":"2026-01-01T00:00:00Z","actionEvent":{"body":{"reason":"forged"}}}
            """.utf8)
        for signature in ["sha256=" + String(repeating: "0", count: 64), "", try Self.sign(failed, key: "not-the-key")] {
            let refused = try await HTTPTestClient.send(
                "POST", listener, headers: ["Content-Type": "application/json", "X-Tusfs-Signature": signature], body: failed)
            #expect(refused.status == 401, "\(refused.text)")
            #expect(refused.text.contains("signature"))
        }
        #expect(try bridge.status("clip.bin", "state") == "ready")
        let large = Data(repeating: 0x20, count: (1 << 20) + 1)
        #expect(try await HTTPTestClient.send("POST", listener, headers: ["X-Tusfs-Signature": try Self.sign(large, key: secret)], body: large)
            .status == 413)
        let notAnEvent = Data("{\"hello\":1}".utf8)
        #expect(try await HTTPTestClient.send("POST", listener, headers: ["X-Tusfs-Signature": try Self.sign(notAnEvent, key: secret)], body: notAnEvent)
            .status == 400)
        let unknown = Data(String(decoding: failed, as: UTF8.self).replacingOccurrences(of: fileID, with: "someone-elses-file").utf8)
        #expect(try await HTTPTestClient.send("POST", listener, headers: ["X-Tusfs-Signature": try Self.sign(unknown, key: secret)], body: unknown)
            .status == 204)
        #expect(try bridge.status("clip.bin", "state") == "ready")
    }

    /// `sha256=` and the hex HMAC-SHA256 of `body` under `key` (by openssl, independent of the code under test).
    static func sign(_ body: Data, key: String) throws -> String {
        let directory = try TemporaryDirectory("sign")
        defer { directory.remove() }
        let file = directory.appending("body")
        try body.write(to: URL(fileURLWithPath: file))
        let result = try ProcessRunner.run("openssl", ["dgst", "-sha256", "-hmac", key, "-r", file])
        guard result.succeeded, let hex = result.stdout.split(separator: " ").first else { throw TestFailure("openssl: \(result.stderr)") }
        return "sha256=" + hex
    }
}
