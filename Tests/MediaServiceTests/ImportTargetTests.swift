import BackgroundServices
import Foundation
import Hummingbird
@testable import MediaService
import Synchronization
import TestSupport
import Testing

/// `POST /files/import` reaches only public addresses by default: the service's own `/metrics`, loopback in any
/// spelling, and redirects to such addresses are refused; redirects are followed by the service itself, a few.
@Suite struct ImportTargetTests {
    @Test(arguments: [
        "http://127.0.0.1:PORT/metrics", "http://localhost:PORT/metrics", "http://[::1]:PORT/metrics", "http://127.1:PORT/metrics",
        "http://2130706433:PORT/metrics", "http://0x7f000001:PORT/metrics", "http://0.0.0.0:PORT/metrics",
        "http://[::ffff:127.0.0.1]:PORT/metrics",
    ])
    func importFromANonPublicAddressIs400(_ template: String) async throws {
        try await withMediaServer { s in
            let url = template.replacingOccurrences(of: "PORT", with: String(s.running.port))
            let r = try await s.call("POST", "/files/import", ["url": url])
            #expect(r.status == 400, "\(url): \(r.text)")
            #expect(r.errorMessage?.contains("not a public address") == true, "\(r.text)")
            #expect(r.errorMessage?.contains("--import-allow-private") == true)
            let listed = try await s.get("/files")
            #expect((listed.json?["files"] as? [Any])?.isEmpty == true, "nothing was imported: \(listed.text)")
        }
    }

    @Test func redirectsAreCheckedAndLimited() async throws {
        let source = try await RedirectingSource.start(host: "127.0.0.2")
        do {
            // The source's address is let through; every other non-public address is not.
            try await withMediaServer(importAllowedAddresses: ["127.0.0.2"]) { s in
                let metrics = "http://127.0.0.1:\(s.running.port)/metrics"
                let toMetrics = try await s.call("POST", "/files/import", ["url": source.url("redirect?to=\(metrics)")])
                #expect(toMetrics.status == 200, "\(toMetrics.text)")
                let refused = try await s.waitUntilProcessed(try #require((toMetrics.json?["file"] as? [String: Any])?["id"] as? String))
                #expect(refused["operationStatus"] as? String == "FAILED")
                #expect(source.requests() == ["/redirect"])

                let fewHops = try await s.call("POST", "/files/import", ["url": source.url("hops/\(Importer.maxRedirects)")])
                let fetched = try await s.waitUntilProcessed(try #require((fewHops.json?["file"] as? [String: Any])?["id"] as? String))
                #expect(fetched["operationStatus"] as? String == "READY")
                #expect(try await HTTPTestClient.send("GET", URL(string: try #require(fetched["url"] as? String))!).text == "payload")

                let tooMany = try await s.call("POST", "/files/import", ["url": source.url("hops/\(Importer.maxRedirects + 1)")])
                let stopped = try await s.waitUntilProcessed(try #require((tooMany.json?["file"] as? [String: Any])?["id"] as? String))
                #expect(stopped["operationStatus"] as? String == "FAILED")
            }
            // The reasons are kept with the files; read them from the database of a server that allows private
            // addresses, where the same redirect to /metrics goes through.
            try await withMediaServer(importAllowPrivate: true) { s in
                let metrics = "http://127.0.0.1:\(s.running.port)/metrics"
                let r = try await s.call("POST", "/files/import", ["url": source.url("redirect?to=\(metrics)")])
                let done = try await s.waitUntilProcessed(try #require((r.json?["file"] as? [String: Any])?["id"] as? String))
                #expect(done["operationStatus"] as? String == "READY", "--import-allow-private lets labs import from loopback")
            }
        } catch {
            await source.stop()
            throw error
        }
        await source.stop()
    }

    @Test func failureReasonsNameTheRefusedAddressAndTheRedirectLimit() async throws {
        let source = try await RedirectingSource.start(host: "127.0.0.2")
        let data = try TemporaryDirectory("import-reasons")
        do {
            var configuration = MediaServiceConfiguration(port: 0, dataDirectory: URL(fileURLWithPath: data.path))
            configuration.importAllowedAddresses = ["127.0.0.2"]
            let server = try MediaServer(configuration: configuration)
            let running = try await server.start()
            do {
                let api = running.apiURL.absoluteString
                let metrics = "http://127.0.0.1:\(running.port)/metrics"
                var ids: [String] = []
                for url in [source.url("redirect?to=\(metrics)"), source.url("hops/\(Importer.maxRedirects + 1)")] {
                    let r = try await HTTPTestClient.json("POST", URL(string: api + "/files/import")!, ["url": url])
                    ids.append(try #require((r.json?["file"] as? [String: Any])?["id"] as? String))
                }
                var reasons: [String] = []
                try await waitUntil("both imports failed") {
                    reasons = try await ids.asyncMap { try await server.service.database.file($0)?.failureReason ?? "" }
                    return reasons.allSatisfy { !$0.isEmpty }
                }
                #expect(reasons[0].contains("127.0.0.1 is not a public address"), "\(reasons[0])")
                #expect(reasons[1].contains("more than \(Importer.maxRedirects) redirects"), "\(reasons[1])")
            } catch {
                await running.stop()
                throw error
            }
            await running.stop()
        } catch {
            await source.stop()
            data.remove()
            throw error
        }
        await source.stop()
        data.remove()
    }

    @Test func publicAndNonPublicAddresses() throws {
        let notPublic = [
            "0.0.0.0", "0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.255.255.255", "169.254.169.254",
            "172.16.0.1", "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.1.1", "198.18.0.1",
            "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
            "::", "::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::127.0.0.1", "64:ff9b::7f00:1", "100::1", "2001::1",
            "2001:db8::1", "2002:7f00:1::", "2002:a00:1::1", "3fff::1", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1",
            "ff02::1", "4000::1",
        ]
        let isPublic = [
            "1.1.1.1", "8.8.8.8", "100.63.255.255", "100.128.0.1", "172.15.255.255", "172.32.0.1", "192.0.1.1",
            "192.169.0.1", "198.17.255.255", "198.20.0.1", "223.255.255.254", "2606:4700:4700::1111", "2a00:1450::1",
            "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
        ]
        for text in notPublic { #expect(try #require(IPAddress(text), "\(text)").isPublic == false, "\(text)") }
        for text in isPublic { #expect(try #require(IPAddress(text), "\(text)").isPublic == true, "\(text)") }
        #expect(IPAddress("localhost") == nil)
        #expect(IPAddress("::ffff:7f00:1")?.description == "::ffff:127.0.0.1")
    }
}

/// An http server on another loopback address (`127.0.0.2`): `GET /redirect?to=URL` answers 302 to URL,
/// `GET /hops/N` redirects to `/hops/N-1` until `/hops/0`, which answers `payload`. It records request paths.
final class RedirectingSource: Sendable {
    final class PathLog: Sendable {
        let paths = Mutex<[String]>([])
        func append(_ path: String) { paths.withLock { $0.append(path) } }
    }

    private let host: String
    private let background: BackgroundService<Int>
    private let log: PathLog

    private init(host: String, background: BackgroundService<Int>, log: PathLog) {
        self.host = host
        self.background = background
        self.log = log
    }

    static func start(host: String) async throws -> RedirectingSource {
        let log = PathLog()
        let router = Router()
        router.get("redirect") { request, _ -> Response in
            log.append(request.uri.path)
            let to = request.uri.queryParameters["to"].map(String.init) ?? "/"
            return Response(status: .found, headers: [.location: to])
        }
        router.get("hops/:n") { request, context -> Response in
            log.append(request.uri.path)
            let n = context.parameters.get("n", as: Int.self) ?? 0
            if n > 0 { return Response(status: .found, headers: [.location: "/hops/\(n - 1)"]) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "payload")))
        }
        let background = try await BackgroundService<Int>.start(logger: .init(label: "redirecting-source")) { listening in
            Application(
                router: router, configuration: .init(address: .hostname(host, port: 0)),
                onServerRunning: { await listening($0.localAddress?.port ?? 0) })
        }
        return RedirectingSource(host: host, background: background, log: log)
    }

    /// `http://HOST:PORT/PATH`.
    func url(_ path: String) -> String { "http://\(host):\(background.value)/\(path)" }

    /// The paths asked for so far.
    func requests() -> [String] { log.paths.withLock { $0 } }

    func stop() async { await background.stop() }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
