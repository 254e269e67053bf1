import Foundation
import TestSupport
import Testing

/// Outages of the service on a real mount: nothing fails for good because the service was away, the mount
/// probes it at the capped pace instead of sending every file's retries, the status surface says why nothing
/// moves, and everything uploads once it is back. (A file the service marks FAILED still fails for good:
/// `UploadRecoveryTests.aFileFailedForGoodIsRetriedWithSetfattr`.)
@Suite(.serialized)
struct ServiceOutageTests {
    /// The mount's longest wait between retries and between probes.
    static let mountArguments = ["--retry-max-delay", "2"]
    static let bigSize = 12 * 1024 * 1024

    /// `count` files under `root`: `big` of 12 MiB (the resumable flow: tus, then finalize) in `big/`, the
    /// rest small (1-40 KiB) in `small/`.
    static func makeTree(at root: String, count: Int, big: Int) throws {
        for directory in ["big", "small"] {
            try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        for index in 0..<big {
            try TestFiles.make("\(root)/big/large-\(index).bin", size: bigSize, seed: UInt64(index + 1))
        }
        for index in 0..<(count - big) {
            let size = 1024 + (index * 977) % (40 * 1024)
            try TestFiles.make("\(root)/small/file-\(index).dat", size: size, seed: UInt64(1000 + index))
        }
    }

    /// Copies the big files in and returns once one of them is uploading with bytes on the service: the
    /// outage then cuts an upload in the middle.
    static func startBigUploads(_ source: String, _ bridge: UploadBridgeFixture) async throws {
        let copy = try ProcessRunner.run("cp", ["-r", source + "/big", bridge.mount.path("tree/")])
        #expect(copy.succeeded, "\(copy.stderr)")
        let moving = await UploadBridgeFixture.eventually(timeout: 60) {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: source + "/big")) ?? []
            return names.contains { name in
                guard let progress = try? bridge.status("tree/big/" + name, "progress") else { return false }
                return !progress.hasPrefix("0/")
            }
        }
        #expect(moving, "no big upload got under way")
    }

    /// `user.tusfs.summary` of the mount's root, as JSON.
    static func rootSummary(_ bridge: UploadBridgeFixture) -> [String: Any]? {
        guard let text = try? bridge.status("", "summary") else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    static func serviceIsReported(unreachable: Bool, _ bridge: UploadBridgeFixture) -> Bool {
        guard let service = rootSummary(bridge)?["service"] as? [String: Any] else { return false }
        return (service["reachable"] as? Bool) == !unreachable
    }

    /// Every file's attempt count from `status.json`, and whether any file is failed for good.
    static func attempts(_ bridge: UploadBridgeFixture) throws -> (attempts: [String: Int], failedForGood: [String]) {
        let data = try #require(FileManager.default.contents(atPath: bridge.mount.path(".tusfs/status.json")))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let files = try #require(document["files"] as? [[String: Any]])
        var attempts: [String: Int] = [:]
        var failedForGood: [String] = []
        for file in files {
            let path = file["path"] as? String ?? "?"
            attempts[path] = file["attempts"] as? Int ?? -1
            if file["state"] as? String == "failed", file["next_attempt"] == nil { failedForGood.append(path) }
        }
        return (attempts, failedForGood)
    }

    /// Checks the status surface during an outage: the summary, the waiting files' state and error, `tusfs
    /// status`, and `tusfs wait`, which times out saying why.
    static func expectOutageShown(_ bridge: UploadBridgeFixture, naming reason: String) throws {
        let service = try #require(rootSummary(bridge)?["service"] as? [String: Any])
        #expect(service["unreachable_since"] is String, "\(service)")
        #expect((service["error"] as? String)?.contains(reason) == true, "\(service)")
        // The small files came after the service went: they wait for it, `pending` (or `uploading` while a
        // request sent before the outage was known is still in its client's quick retries; the few whose
        // failures came before the outage was known wait for their own retry, as `failed` with a next attempt).
        let data = try #require(FileManager.default.contents(atPath: bridge.mount.path(".tusfs/status.json")))
        let files = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["files"] as? [[String: Any]])
        let small = files.filter { ($0["path"] as? String)?.hasPrefix("tree/small/") == true }
        let waitingStates: Set<String> = ["pending", "uploading"]
        let waiting = small.filter { waitingStates.contains($0["state"] as? String ?? "") }
        let others = small.filter { !waitingStates.contains($0["state"] as? String ?? "") }.map { "\($0["path"] ?? "?"): \($0["state"] ?? "?")" }
        #expect(waiting.count >= small.count * 9 / 10, "not pending: \(others)")
        for file in waiting.prefix(20) {
            let path = try #require(file["path"] as? String)
            #expect(waitingStates.contains(try bridge.status(path) ?? ""))
            let error = try bridge.status(path, "error") ?? ""
            #expect(error.hasPrefix("service unreachable since "), "\(path): \(error)")
        }
        let status = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["status", bridge.mount.mountpoint])
        #expect(status.stdout.contains("service unreachable since "), "\(status.stdout.suffix(500))")
        let wait = try bridge.wait(timeout: 2)
        #expect(wait.status == 2, "\(wait.stderr)")
        #expect(wait.stderr.contains("still waiting: service unreachable since "), "\(wait.stderr)")
    }

    @Test func aServiceStoppedForAMinuteGetsEveryFileOnceItIsBack() async throws {
        let source = try TemporaryDirectory("outage-source")
        defer { source.remove() }
        try Self.makeTree(at: source.appending("tree"), count: 200, big: 4)
        let bridge = try UploadBridgeFixture("outage", serveArguments: ["--latency-ms", "20"], mountArguments: Self.mountArguments)
        defer { bridge.cleanup() }
        try FileManager.default.createDirectory(atPath: bridge.mount.path("tree"), withIntermediateDirectories: true)
        try await Self.startBigUploads(source.appending("tree"), bridge)

        bridge.stopServer()
        let outageStarted = Date()
        let copy = try ProcessRunner.run("cp", ["-r", source.appending("tree/small"), bridge.mount.path("tree/")])
        #expect(copy.succeeded, "\(copy.stderr)")
        let noticed = await UploadBridgeFixture.eventually(timeout: 30) { Self.serviceIsReported(unreachable: true, bridge) }
        try #require(noticed, "the outage never showed in user.tusfs.summary\n\(bridge.daemonLog.suffix(2000))")
        try Self.expectOutageShown(bridge, naming: "Connection refused")
        let before = try Self.attempts(bridge)

        // Thirty times the longest retry delay.
        let outage: Double = 60
        try await Task.sleep(for: .seconds(max(0, outage - Date().timeIntervalSince(outageStarted))))
        let after = try Self.attempts(bridge)
        #expect(after.attempts == before.attempts, "attempts grew while the service was known to be away")
        #expect(after.failedForGood.isEmpty, "failed for good: \(after.failedForGood.prefix(5))")
        #expect(Self.serviceIsReported(unreachable: true, bridge))

        try bridge.startServer()
        let wait = try bridge.wait(timeout: 300)
        #expect(wait.status == 0, "\(wait.stderr.suffix(2000))\n\(bridge.daemonLog.suffix(3000))")
        #expect(Self.serviceIsReported(unreachable: false, bridge))
        try await UploadBridgeTests.expectServiceMirrors(source.appending("tree"), bridge, under: "tree/")
        #expect(bridge.daemonLog.contains("service reachable again"))
    }

    /// The service up but answering every request with 503, or with 429 and `Retry-After: 3` (longer than the
    /// mount's own 2 s cap, so the probes follow the service's word): once the mount knows, it sends one probe
    /// per interval and nothing else.
    @Test(arguments: [(503, nil), (429, 3)] as [(Int, Int?)])
    func aServiceAnsweringUnavailableIsProbedNotHammered(status: Int, retryAfter: Int?) async throws {
        let source = try TemporaryDirectory("unavailable-source")
        defer { source.remove() }
        try Self.makeTree(at: source.appending("tree"), count: 60, big: 2)
        let metricsPort = try LoopbackPort.free()
        let bridge = try UploadBridgeFixture(
            "unavailable", serveArguments: ["--latency-ms", "20"],
            mountArguments: Self.mountArguments + ["--metrics-listen", "127.0.0.1:\(metricsPort)"])
        let metricsURL = try #require(URL(string: "http://127.0.0.1:\(metricsPort)/metrics"))
        defer { bridge.cleanup() }
        try FileManager.default.createDirectory(atPath: bridge.mount.path("tree"), withIntermediateDirectories: true)
        try await Self.startBigUploads(source.appending("tree"), bridge)

        bridge.stopServer()
        let unavailable = try UnavailableServer.start(port: bridge.port, status: status, retryAfter: retryAfter)
        defer { unavailable.stop() }
        let outageStarted = Date()
        let copy = try ProcessRunner.run("cp", ["-r", source.appending("tree/small"), bridge.mount.path("tree/")])
        #expect(copy.succeeded, "\(copy.stderr)")
        let noticed = await UploadBridgeFixture.eventually(timeout: 30) { Self.serviceIsReported(unreachable: true, bridge) }
        try #require(noticed, "the outage never showed in user.tusfs.summary\n\(bridge.daemonLog.suffix(2000))")
        try Self.expectOutageShown(bridge, naming: "\(status)")
        let metrics = try await HTTPTestClient.send("GET", metricsURL).text
        #expect(Self.sample(metrics, "tusfs_service_reachable") == 0, "\(metrics)")
        #expect((Self.sample(metrics, "tusfs_service_unreachable_since_seconds") ?? 0) >= outageStarted.timeIntervalSince1970 - 1)
        let before = try Self.attempts(bridge)

        let outage: Double = 30
        try await Task.sleep(for: .seconds(max(0, outage - Date().timeIntervalSince(outageStarted))))
        let times = try await unavailable.requestTimes()
        unavailable.stop()
        let after = try Self.attempts(bridge)
        #expect(after.attempts == before.attempts, "attempts grew while the service was known to be away")
        #expect(after.failedForGood.isEmpty, "failed for good: \(after.failedForGood.prefix(5))")

        // After the first seconds (the requests under way when the outage began, and the three failures in a
        // row that make it known), one probe per interval: at least 1 s apart with a 2 s cap and half of it
        // jitter, at least Retry-After apart when the service asks for more.
        let settled = outageStarted.timeIntervalSince1970 + 8
        let steady = times.filter { $0 >= settled }
        let window = (times.last ?? settled) - settled
        let interval = Double(retryAfter ?? 1)
        #expect(!steady.isEmpty, "no probe in the last \(outage - 8) s")
        #expect(
            Double(steady.count) <= window / interval + 2,
            "\(steady.count) requests in \(window) s of outage, at most one per \(interval) s expected: \(steady)")

        try bridge.startServer()
        let wait = try bridge.wait(timeout: 300)
        #expect(wait.status == 0, "\(wait.stderr.suffix(2000))\n\(bridge.daemonLog.suffix(3000))")
        try await UploadBridgeTests.expectServiceMirrors(source.appending("tree"), bridge, under: "tree/")
        let recovered = try await HTTPTestClient.send("GET", metricsURL).text
        #expect(Self.sample(recovered, "tusfs_service_reachable") == 1, "\(recovered)")
        #expect((Self.sample(recovered, "tusfs_service_probes_total") ?? 0) >= 1, "\(recovered)")
    }

    /// The value of the sample `name` in Prometheus text.
    static func sample(_ text: String, _ name: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    /// A refusal (a 4xx other than 408 and 429) is a verdict: the file fails for good at once, with the
    /// service's message, while the others upload.
    @Test func aRefusedFileStillFailsForGood() async throws {
        let bridge = try UploadBridgeFixture("refused", serveArguments: ["--max-upload-size", "5000"], mountArguments: Self.mountArguments)
        defer { bridge.cleanup() }
        try TestFiles.make(bridge.mount.path("too-big.bin"), size: 20_000, seed: 7)
        try Data("fits\n".utf8).write(to: URL(fileURLWithPath: bridge.mount.path("small.txt")))
        let wait = try bridge.wait(timeout: 60)
        #expect(wait.status == 1, "\(wait.stderr)")
        #expect(try bridge.status("small.txt") == "ready")
        #expect(try bridge.status("too-big.bin") == "failed")
        let error = try bridge.status("too-big.bin", "error") ?? ""
        #expect(error.contains("4"), "\(error)")
        #expect(try bridge.status("too-big.bin", "attempts") == "1")
        #expect(try Self.attempts(bridge).failedForGood == ["too-big.bin"])
        #expect(Self.serviceIsReported(unreachable: false, bridge))
    }
}
