import Foundation
import TestSupport
import Testing

/// A mount over a service that throttles, speaks HTTP/2 and closes its connections, or is far away: nothing
/// fails for good, nothing is lost, and small files do not wait behind big ones.
@Suite("Network", .serialized)
struct NetworkTests {
    /// `count` files of 1-8 KiB under `root`.
    static func makeSmallFiles(at root: String, count: Int, seed: UInt64 = 1) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for index in 0..<count {
            try TestFiles.make("\(root)/file-\(index).dat", size: 1024 + (index * 997) % (7 * 1024), seed: seed + UInt64(index))
        }
    }

    /// The service answers at most 40 requests a second and refuses the rest with 429 and `Retry-After: 1`.
    /// The mount pauses as asked and sends fewer requests at once: every file arrives, none fails or even
    /// counts a failed attempt, the service is never called unreachable, and the status surface and the
    /// metrics show the throttling while it lasts.
    @Test func aThrottlingServiceSlowsTheMountAndFailsNothing() async throws {
        let source = try TemporaryDirectory("throttled-source")
        defer { source.remove() }
        try Self.makeSmallFiles(at: source.appending("tree"), count: 150)
        let metricsPort = try LoopbackPort.free()
        let bridge = try UploadBridgeFixture(
            "throttled", serveArguments: ["--rate-limit", "40", "--processing-delay", "0"],
            mountArguments: ["--metrics-listen", "127.0.0.1:\(metricsPort)"])
        defer { bridge.cleanup() }

        let copy = try ProcessRunner.run("cp", ["-r", source.appending("tree"), bridge.mount.path("tree")])
        #expect(copy.succeeded, "\(copy.stderr)")
        let shown = await UploadBridgeFixture.eventually(timeout: 60) {
            guard let text = try? bridge.status("", "summary"),
                let summary = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                let service = summary["service"] as? [String: Any]
            else { return false }
            return service["throttled_until"] is String && service["request_limit"] is Int && service["reachable"] as? Bool == true
        }
        #expect(shown, "user.tusfs.summary never showed the throttling\n\(bridge.daemonLog.suffix(2000))")

        let wait = try bridge.wait(timeout: 300)
        #expect(wait.status == 0, "\(wait.stderr.suffix(2000))\n\(bridge.daemonLog.suffix(3000))")
        let status = try #require(FileManager.default.contents(atPath: bridge.mount.path(".tusfs/status.json")))
        let document = try #require(try JSONSerialization.jsonObject(with: status) as? [String: Any])
        for file in try #require(document["files"] as? [[String: Any]]) {
            #expect(file["state"] as? String == "ready", "\(file)")
            #expect(file["attempts"] as? Int == 0, "a 429 counted as a failed attempt: \(file)")
        }
        let refused = try await bridge.server.metrics()
            .split(separator: "\n").filter { $0.hasPrefix("tusfs_server_requests_total") && $0.contains("status=\"429\"") }
        #expect(!refused.isEmpty, "the service never throttled")
        let metrics = try await HTTPTestClient.send("GET", try #require(URL(string: "http://127.0.0.1:\(metricsPort)/metrics"))).text
        #expect((ServiceOutageTests.sample(metrics, "tusfs_service_throttled_total") ?? 0) > 0, "\(metrics)")
        #expect(ServiceOutageTests.sample(metrics, "tusfs_service_reachable") == 1, "\(metrics)")
        #expect(ServiceOutageTests.sample(metrics, "tusfs_request_limit") != nil, "\(metrics)")
        #expect(!bridge.daemonLog.contains("service unreachable"), "\(bridge.daemonLog.suffix(3000))")
        // Without the limit, so that the check's own downloads are not throttled.
        try bridge.restartServer(serveArguments: ["--processing-delay", "0"])
        try await UploadBridgeTests.expectServiceMirrors(source.appending("tree"), bridge, under: "tree/")
    }

    /// Over https the mount and `tusfs serve` speak HTTP/2, and the service closes every connection after a
    /// second (GOAWAY) while small files and two 12 MiB files (tus) upload: the requests
    /// under way finish, new ones go to a new connection, and every file arrives intact.
    @Test func http2ConnectionsClosedByTheServiceLoseNoUpload() async throws {
        let ca = try TLSTests.PrivateCA()
        defer { ca.directory.remove() }
        let source = try TemporaryDirectory("goaway-source")
        defer { source.remove() }
        try Self.makeSmallFiles(at: source.appending("tree/small"), count: 120)
        try FileManager.default.createDirectory(atPath: source.appending("tree/big"), withIntermediateDirectories: true)
        for index in 0..<2 { try TestFiles.make(source.appending("tree/big/large-\(index).bin"), size: 12 << 20, seed: UInt64(500 + index)) }
        let bridge = try UploadBridgeFixture(
            "goaway",
            serveArguments: [
                "--tls-cert", ca.serverCertificate, "--tls-key", ca.serverKey, "--http2-max-connection-age", "1",
                "--latency-ms", "20", "--processing-delay", "0",
            ],
            mountArguments: ["--ca-file", ca.caCertificate])
        defer { bridge.cleanup() }
        let health = bridge.server.baseURL.appendingPathComponent("healthz").absoluteString
        let negotiated = try ProcessRunner.run(
            "curl", ["-sS", "--http2", "--cacert", ca.caCertificate, "-o", "/dev/null", "-w", "%{http_version}", health])
        #expect(negotiated.stdout == "2", "the service does not offer HTTP/2: \(negotiated.stdout) \(negotiated.stderr)")

        let copy = try ProcessRunner.run("cp", ["-r", source.appending("tree"), bridge.mount.path("tree")])
        #expect(copy.succeeded, "\(copy.stderr)")
        let wait = try bridge.wait(timeout: 300)
        #expect(wait.status == 0, "\(wait.stderr.suffix(2000))\n\(bridge.daemonLog.suffix(3000))")
        let names = ["big/large-0.bin", "big/large-1.bin"] + (0..<120).map { "small/file-\($0).dat" }
        for name in names {
            #expect(try bridge.status("tree/" + name) == "ready", "\(name)")
            let url = try #require(try bridge.status("tree/" + name, "url"))
            let downloaded = source.appending("downloaded")
            let fetched = try ProcessRunner.run("curl", ["-sS", "--cacert", ca.caCertificate, "-o", downloaded, url])
            #expect(fetched.succeeded, "\(fetched.stderr)")
            #expect(try TreeComparison.sameBytes(source.appending("tree/" + name), downloaded), "\(name) differs on the service")
        }
    }

    /// With one transfer slot and 50 ms to the service, big files copied first do not hold back the small files
    /// copied after them: the small files are all READY while big ones still wait or upload.
    @Test func smallFilesDoNotWaitBehindBigOnes() async throws {
        let source = try TemporaryDirectory("mixed-source")
        defer { source.remove() }
        try FileManager.default.createDirectory(atPath: source.appending("big"), withIntermediateDirectories: true)
        for index in 0..<8 { try TestFiles.make(source.appending("big/large-\(index).bin"), size: 12 << 20, seed: UInt64(index + 1)) }
        try Self.makeSmallFiles(at: source.appending("small"), count: 40, seed: 100)
        let bridge = try UploadBridgeFixture(
            "mixed", serveArguments: ["--latency-ms", "50", "--processing-delay", "0"], mountArguments: ["--transfers", "1"])
        defer { bridge.cleanup() }

        #expect(try ProcessRunner.run("cp", ["-r", source.appending("big"), bridge.mount.path("big")]).succeeded)
        #expect(try ProcessRunner.run("cp", ["-r", source.appending("small"), bridge.mount.path("small")]).succeeded)
        let small = try bridge.wait([bridge.mount.path("small")], timeout: 300)
        #expect(small.status == 0, "\(small.stderr.suffix(2000))")
        let bigStates = try (0..<8).map { try bridge.status("big/large-\($0).bin") ?? "?" }
        #expect(bigStates.contains { $0 != "ready" }, "every big file was READY before the small files: \(bigStates)")

        let all = try bridge.wait(timeout: 300)
        #expect(all.status == 0, "\(all.stderr.suffix(2000))")
        try await UploadBridgeTests.expectServiceMirrors(source.path, bridge)
    }
}
