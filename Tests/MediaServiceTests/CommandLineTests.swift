import Crypto
import Foundation
import TestSupport
import Testing
import TusCore

/// `tusfs serve` as a user runs it: the built binary, driven with curl.
@Suite struct CommandLineTests {
    private func curlJSON(_ args: String) throws -> [String: Any] {
        let r = try ProcessRunner.shell("curl -sS \(args)")
        #expect(r.succeeded, "\(r.stderr)")
        return try #require((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any], "\(r.stdout)")
    }

    private func waitReady(_ api: URL, _ id: String) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let d = try curlJSON("'\(api.absoluteString)/files/get-file-by-id?fileId=\(id)'")["file"] as? [String: Any] ?? [:]
            if d["operationStatus"] as? String != "PENDING" { return d }
            usleep(50_000)
        }
        throw TestFailure("still PENDING")
    }

    @Test func mediaFlowWithCurl() async throws { try await offPool { try Self().mediaFlow() } }

    private func mediaFlow() throws {
        let dir = try TemporaryDirectory("flow")
        defer { dir.remove() }
        let server = try ServeProcess.start(data: dir.appending("data"), arguments: ["--processing-delay", "0.3"])
        defer { server.stop() }
        let content = randomBytes(300_000)
        _ = FileManager.default.createFile(atPath: dir.appending("clip.mp4"), contents: content)

        let generated = try curlJSON(
            "-X POST -H 'Content-Type: application/json' -d '{\"mimeType\":\"video/mp4\",\"fileName\":\"clip.mp4\",\"sizeInBytes\":\"300000\",\"filePath\":\"/videos/2024\"}' \(server.apiURL.absoluteString)/files/generate-upload-url")
        let uploadURL = try #require(generated["uploadUrl"] as? String)
        let put = try curlJSON("-T \(dir.appending("clip.mp4")) -H 'Content-Type: video/mp4' '\(uploadURL)?filename=clip.mp4'")
        let file = try #require(put["file"] as? [String: Any])
        #expect(file["operationStatus"] as? String == "PENDING")
        #expect(file["sizeInBytes"] as? String == "300000")
        #expect(file["mediaType"] as? String == "VIDEO")
        let id = try #require(file["id"] as? String)

        let ready = try waitReady(server.apiURL, id)
        #expect(ready["operationStatus"] as? String == "READY")
        #expect((ready["hash"] as? String) == SHA256.hash(data: content).lowercaseHex)
        let url = try #require(ready["url"] as? String)

        let whole = try ProcessRunner.shell("curl -sS -o \(dir.appending("down")) -w '%{http_code}' '\(url)'")
        #expect(whole.stdout == "200")
        #expect(FileManager.default.contents(atPath: dir.appending("down")) == content)
        let part = try ProcessRunner.shell("curl -sS -r 1000-1999 -o \(dir.appending("part")) -w '%{http_code}' '\(url)'")
        #expect(part.stdout == "206")
        #expect(FileManager.default.contents(atPath: dir.appending("part")) == content[1000..<2000])
        let outside = try ProcessRunner.shell("curl -sS -r 400000-400010 -o /dev/null -w '%{http_code}' '\(url)'")
        #expect(outside.stdout == "416")
        #expect(server.stop() == 0)
    }

    @Test func restartKeepsDescriptorsAndContent() async throws { try await offPool { try Self().restart() } }

    private func restart() throws {
        let dir = try TemporaryDirectory("restart")
        defer { dir.remove() }
        let content = randomBytes(50_000)
        _ = FileManager.default.createFile(atPath: dir.appending("a.bin"), contents: content)
        var server = try ServeProcess.start(data: dir.appending("data"), arguments: ["--processing-delay", "0.1"])
        let generated = try curlJSON(
            "-X POST -H 'Content-Type: application/json' -d '{\"mimeType\":\"application/octet-stream\",\"filePath\":\"/keep\"}' \(server.apiURL.absoluteString)/files/generate-upload-url")
        let uploadURL = try #require(generated["uploadUrl"] as? String)
        let put = try curlJSON("-T \(dir.appending("a.bin")) '\(uploadURL)?filename=a.bin'")
        let id = try #require((put["file"] as? [String: Any])?["id"] as? String)
        let before = try waitReady(server.apiURL, id)
        #expect(server.stop() == 0)

        server = try ServeProcess.start(data: dir.appending("data"), arguments: ["--processing-delay", "0.1"])
        defer { server.stop() }
        let after = try #require(try curlJSON("'\(server.apiURL.absoluteString)/files/get-file-by-id?fileId=\(id)'")["file"] as? [String: Any])
        #expect(after["operationStatus"] as? String == "READY")
        #expect(after["hash"] as? String == before["hash"] as? String)
        #expect(after["parentFolderId"] as? String == before["parentFolderId"] as? String)
        let url = try #require(after["url"] as? String)
        _ = try ProcessRunner.shell("curl -sS -o \(dir.appending("down")) '\(url)'")
        #expect(FileManager.default.contents(atPath: dir.appending("down")) == content)
        let folders = try curlJSON("'\(server.apiURL.absoluteString)/folders?parentFolderId=media-root'")
        let names = (folders["folders"] as? [[String: Any]] ?? []).compactMap { $0["displayName"] as? String }
        #expect(names.contains("keep"))
        // The old upload URL was used: still refused after the restart.
        let movedURL = uploadURL.replacingOccurrences(of: try #require(uploadURL.components(separatedBy: "/upload/").first), with: server.baseURL.absoluteString)
        let reused = try ProcessRunner.shell("curl -sS -o /dev/null -w '%{http_code}' -T \(dir.appending("a.bin")) '\(movedURL)?filename=a.bin'")
        #expect(reused.stdout == "403")
    }

    @Test func unfinishedTusUploadSurvivesARestart() async throws { try await offPool { try Self().tusRestart() } }

    private func tusRestart() throws {
        let dir = try TemporaryDirectory("tusrestart")
        defer { dir.remove() }
        let content = randomBytes(200_000)
        _ = FileManager.default.createFile(atPath: dir.appending("first"), contents: content.prefix(120_000))
        _ = FileManager.default.createFile(atPath: dir.appending("rest"), contents: content.dropFirst(120_000))
        var server = try ServeProcess.start(data: dir.appending("data"), arguments: ["--processing-delay", "0.1"])
        let generated = try curlJSON(
            "-X POST -H 'Content-Type: application/json' -d '{\"mimeType\":\"video/mp4\",\"fileName\":\"v.mp4\",\"uploadProtocol\":\"TUS\"}' \(server.apiURL.absoluteString)/files/generate-resumable-upload-url")
        let endpoint = try #require(generated["uploadUrl"] as? String)
        let token = try #require(generated["uploadToken"] as? String)
        let metadata = "filename \(Data("v.mp4".utf8).base64EncodedString()),token \(Data(token.utf8).base64EncodedString())"
        let created = try ProcessRunner.shell(
            "curl -sS -i -X POST -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 200000' -H 'Upload-Metadata: \(metadata)' '\(endpoint)'")
        let location = try #require(created.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") })
        let path = location.dropFirst("location:".count).trimmingCharacters(in: .whitespaces)
        let patch = "curl -sS -o /dev/null -w '%{http_code}' -X PATCH -H 'Tus-Resumable: 1.0.0' -H 'Content-Type: application/offset+octet-stream'"
        #expect(try ProcessRunner.shell("\(patch) -H 'Upload-Offset: 0' --data-binary @\(dir.appending("first")) '\(server.baseURL.absoluteString)\(path)'").stdout == "204")
        #expect(server.stop() == 0)

        server = try ServeProcess.start(data: dir.appending("data"), arguments: ["--processing-delay", "0.1"])
        defer { server.stop() }
        let base = server.baseURL.absoluteString
        let head = try ProcessRunner.shell("curl -sS -I -H 'Tus-Resumable: 1.0.0' '\(base)\(path)'")
        #expect(head.stdout.lowercased().contains("upload-offset: 120000"), "\(head.stdout)")
        #expect(try ProcessRunner.shell("\(patch) -H 'Upload-Offset: 120000' --data-binary @\(dir.appending("rest")) '\(base)\(path)'").stdout == "204")
        let newEndpoint = base + "/upload/" + (endpoint.components(separatedBy: "/upload/").last ?? "")
        let finalized = try curlJSON("-X PUT '\(newEndpoint)/\(token)?filename=v.mp4'")
        let id = try #require((finalized["file"] as? [String: Any])?["id"] as? String)
        let ready = try waitReady(server.apiURL, id)
        #expect(ready["operationStatus"] as? String == "READY")
        _ = try ProcessRunner.shell("curl -sS -o \(dir.appending("down")) '\(ready["url"] as? String ?? "")'")
        #expect(FileManager.default.contents(atPath: dir.appending("down")) == content)
    }

    @Test(arguments: [
        ["--listen", "nonsense"], ["--fail-rate", "2"], ["--webhook", "ftp://x"], ["--api-key-file", "/nonexistent/key"],
        ["--drop-after-bytes", "0"], ["--bogus-flag"], ["--idle-timeout", "0"], ["--max-connections", "0"],
        ["--api-key", "a", "--api-key-file", "/nonexistent/key"], ["--webhook-secret-file", "/nonexistent/secret"],
        ["--rate-limit", "0"], ["--http2-max-connection-age", "5"],
    ])
    func badFlagsFailWithAMessage(_ flags: [String]) async throws { try await offPool { try Self().badFlags(flags) } }

    private func badFlags(_ flags: [String]) throws {
        let dir = try TemporaryDirectory("flags")
        defer { dir.remove() }
        let r = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["serve", "--data", dir.appending("d")] + flags)
        #expect(r.status != 0)
        let firstLine = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.hasPrefix("Error:"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func apiKeyFileAndFaultAnnouncement() async throws { try await offPool { try Self().apiKeyFile() } }

    private func apiKeyFile() throws {
        let dir = try TemporaryDirectory("keyfile")
        defer { dir.remove() }
        _ = FileManager.default.createFile(
            atPath: dir.appending("key"), contents: Data("s3cret\n".utf8), attributes: [.posixPermissions: 0o644])
        // A key file others may read is refused, with what to do about it.
        let refused = try ProcessRunner.run(
            ProcessRunner.tusfsExecutable, ["serve", "--listen", "127.0.0.1:0", "--data", dir.appending("data"), "--api-key-file", dir.appending("key")])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("readable by group or others") && refused.stderr.contains("chmod 600"))
        #expect(!refused.stderr.contains("s3cret"))
        chmod(dir.appending("key"), 0o600)
        let server = try ServeProcess.start(
            data: dir.appending("data"), arguments: ["--api-key-file", dir.appending("key"), "--fail-rate", "0.5", "--latency-ms", "1"])
        defer { server.stop() }
        let denied = try ProcessRunner.shell("curl -s -o /dev/null -w '%{http_code}' '\(server.apiURL.absoluteString)/files'")
        #expect(denied.stdout == "401")
        let allowed = try ProcessRunner.shell("curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: s3cret' '\(server.apiURL.absoluteString)/files'")
        #expect(allowed.stdout == "200")
        #expect(server.log.contains("fault injection is ON"))
    }

    @Test func secretsFromTheEnvironmentAndFilesWithCRLF() async throws { try await offPool { try Self().secretSources() } }

    private func secretSources() throws {
        let dir = try TemporaryDirectory("secrets")
        defer { dir.remove() }
        func status(_ server: ServeProcess, key: String?) throws -> String {
            let header = key.map { "-H 'Authorization: \($0)'" } ?? ""
            return try ProcessRunner.shell("curl -s -o /dev/null -w '%{http_code}' \(header) '\(server.apiURL.absoluteString)/files'").stdout
        }
        do {  // TUSFS_API_KEY, nothing on the command line, no warning
            let server = try ServeProcess.start(data: dir.appending("env"), environment: ["TUSFS_API_KEY": "from-env"])
            defer { server.stop() }
            #expect(try status(server, key: nil) == "401")
            #expect(try status(server, key: "from-env") == "200")
            #expect(!server.log.contains("warning"))
        }
        do {  // a key file written on Windows: the key ends before "\r\n"
            _ = FileManager.default.createFile(
                atPath: dir.appending("crlf-key"), contents: Data("s3cret\r\n".utf8), attributes: [.posixPermissions: 0o600])
            let server = try ServeProcess.start(data: dir.appending("file"), arguments: ["--api-key-file", dir.appending("crlf-key")])
            defer { server.stop() }
            #expect(try status(server, key: "s3cret") == "200")
        }
        do {  // on the command line it works, with a one-line warning
            let server = try ServeProcess.start(data: dir.appending("argv"), arguments: ["--api-key", "on-argv"])
            defer { server.stop() }
            #expect(try status(server, key: "on-argv") == "200")
            let warnings = server.log.split(separator: "\n").filter { $0.contains("warning: --api-key") }
            #expect(warnings.count == 1, "\(server.log)")
            #expect(warnings.first?.contains("--api-key-file") == true)
        }
    }

    @Test func rateLimitRefusesRequestsPastItWith429AndRetryAfter() async throws { try await offPool { try Self().rateLimit() } }

    private func rateLimit() throws {
        let server = try ServeProcess.start(arguments: ["--rate-limit", "2"])
        defer { server.stop() }
        let base = server.baseURL.absoluteString
        // 20 calls at once: the bucket holds 2, and refills at 2 a second.
        let burst = try ProcessRunner.shell(
            "curl -s -Z --parallel-max 20 -w '%{http_code}\\n'"
                + String(repeating: " -o /dev/null '\(base)/site-media/v1/folders?parentFolderId=media-root'", count: 20))
        let codes = burst.stdout.split(separator: "\n").map(String.init)
        #expect(codes.count == 20)
        #expect(codes.contains("200"), "\(codes)")
        #expect(codes.filter { $0 == "429" }.count >= 10, "\(codes)")
        #expect(Set(codes).isSubset(of: ["200", "429"]), "\(codes)")
        // The first refused answer of a few calls in a row, headers and body.
        let refused = try ProcessRunner.shell(
            "for i in $(seq 1 10); do out=$(curl -s -i '\(base)/site-media/v1/folders'); case \"$out\" in 'HTTP/1.1 429'*) echo \"$out\"; break;; esac; done")
        #expect(refused.stdout.hasPrefix("HTTP/1.1 429"), "\(refused.stdout)")
        #expect(refused.stdout.lowercased().contains("retry-after: 1"), "\(refused.stdout)")
        #expect(refused.stdout.contains(#"{"message":"over the rate limit of 2 requests per second"}"#), "\(refused.stdout)")
        let health = try ProcessRunner.shell("curl -s '\(base)/healthz'")
        #expect(health.stdout == "ok\n", "/healthz is not counted")
        let metrics = try ProcessRunner.shell("curl -s '\(base)/metrics'")
        #expect(metrics.stdout.contains(#"route="rate-limited",status="429""#), "\(metrics.stdout)")
    }

    @Test func idleTimeoutFlagClosesHalfSentRequests() async throws { try await offPool { try Self().idleTimeoutFlag() } }

    private func idleTimeoutFlag() throws {
        let server = try ServeProcess.start(arguments: ["--idle-timeout", "1", "--max-connections", "8"])
        defer { server.stop() }
        let connection = try RawConnection(port: server.baseURL.port!)
        defer { connection.close() }
        try connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        #expect(connection.waitUntilClosed(timeout: 30), "a half-sent request is closed after --idle-timeout")
        let healthy = try ProcessRunner.shell("curl -s '\(server.baseURL.absoluteString)/healthz'")
        #expect(healthy.stdout == "ok\n")
    }
}
