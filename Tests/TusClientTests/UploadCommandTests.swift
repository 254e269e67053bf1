import Foundation
import TestSupport
import Testing

/// `tusfs upload` and `tusfs import` as users run them: the built binary against real servers.
@Suite("tusfs upload / import command line", .serialized)
struct UploadCommandTests {
    let tusfs = ProcessRunner.tusfsExecutable

    @Test("bad input gets a one-line error and a non-zero exit")
    func badInput() throws {
        let cases: [[String]] = [
            ["upload", "--endpoint", "http://127.0.0.1:9"],
            ["upload", "/no/such/file", "--endpoint", "http://127.0.0.1:9"],
            ["upload", "/etc", "--endpoint", "http://127.0.0.1:9"],
            ["upload", "/etc/hostname"],
            ["upload", "/etc/hostname", "--endpoint", "http://127.0.0.1:9", "--tus", "http://127.0.0.1:9/files/"],
            ["upload", "/etc/hostname", "--tus", "not a url"],
            ["upload", "/etc/hostname", "--tus", "http://127.0.0.1:9/files/", "--chunk-size", "0"],
        ]
        for arguments in cases {
            let result = try ProcessRunner.run(tusfs, arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stdout.isEmpty, "\(arguments)")
            let lines = result.stderr.split(separator: "\n").filter { !$0.isEmpty }
            #expect(lines.count >= 1 && lines.count <= 3, "\(arguments): \(result.stderr)")
        }
    }

    @Test("uploads to tusfs serve print one descriptor per file; the key comes from TUSFS_API_KEY and is never printed")
    func uploadToService() throws {
        let server = try ServeProcess.start(arguments: ["--api-key", "s3cret-key", "--processing-delay", "0"])
        defer { server.stop() }
        let dir = try TemporaryDirectory("cli")
        defer { dir.remove() }
        try TestFiles.make(dir.appending("one.bin"), size: 1000, seed: 3)
        try TestFiles.make(dir.appending("two.bin"), size: 11 * 1024 * 1024, seed: 4)

        let result = try ProcessRunner.run(
            tusfs, ["upload", dir.appending("one.bin"), dir.appending("two.bin"), "--endpoint", server.baseURL.absoluteString,
                "--folder", "/cli", "--wait", "--verbose"],
            environment: ["TUSFS_API_KEY": "s3cret-key"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        for (line, name) in zip(lines, ["one.bin", "two.bin"]) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["displayName"] as? String == name)
            #expect(object["operationStatus"] as? String == "READY")
        }
        #expect(!result.stderr.contains("s3cret-key"))

        let denied = try ProcessRunner.run(
            tusfs, ["upload", dir.appending("one.bin"), "--endpoint", server.baseURL.absoluteString, "--api-key", "wrong"])
        #expect(denied.status != 0)
        #expect(denied.stderr.contains("401") || denied.stderr.contains("403"))
        #expect(denied.stderr.contains("warning: --api-key shows the secret to every user"), "\(denied.stderr)")
        #expect(!result.stderr.contains("warning"), "no warning for a key from TUSFS_API_KEY: \(result.stderr)")
    }

    @Test("files sent while the service is away wait for it, in order, and all arrive once it is back")
    func uploadWaitsOutAnOutage() throws {
        let dir = try TemporaryDirectory("cli-outage")
        defer { dir.remove() }
        var server = try ServeProcess.start(data: dir.appending("data"), arguments: ["--processing-delay", "0"])
        defer { server.stop() }
        let port = try #require(server.baseURL.port)
        server.stop()
        for (index, name) in ["a.bin", "b.bin", "c.bin"].enumerated() {
            try TestFiles.make(dir.appending(name), size: 2000 * (index + 1), seed: UInt64(index))
        }
        let upload = Process()
        upload.executableURL = URL(fileURLWithPath: tusfs)
        upload.arguments = ["upload", dir.appending("a.bin"), dir.appending("b.bin"), dir.appending("c.bin"),
            "--endpoint", server.baseURL.absoluteString, "--retry-max-delay", "1"]
        _ = FileManager.default.createFile(atPath: dir.appending("out"), contents: nil)
        _ = FileManager.default.createFile(atPath: dir.appending("err"), contents: nil)
        upload.standardOutput = FileHandle(forWritingAtPath: dir.appending("out"))
        upload.standardError = FileHandle(forWritingAtPath: dir.appending("err"))
        try upload.run()
        defer { if upload.isRunning { upload.terminate() } }
        Thread.sleep(forTimeInterval: 5)
        #expect(upload.isRunning, "gave up while the service was away")
        server = try ServeProcess.start(
            data: dir.appending("data"), arguments: ["--processing-delay", "0", "--listen", "127.0.0.1:\(port)"])
        let deadline = Date().addingTimeInterval(60)
        while upload.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(!upload.isRunning)
        upload.waitUntilExit()
        let stdout = try String(contentsOfFile: dir.appending("out"), encoding: .utf8)
        let stderr = try String(contentsOfFile: dir.appending("err"), encoding: .utf8)
        #expect(upload.terminationStatus == 0, "\(stderr)")
        #expect(stderr.contains("a.bin: the service cannot take it yet"), "\(stderr)")
        let names = stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["displayName"] as? String
        }
        #expect(names == ["a.bin", "b.bin", "c.bin"], "\(stdout)")
    }

    @Test("a throttling service slows tusfs upload down (fewer files at once, paused as asked) and fails nothing")
    func uploadUnderThrottling() async throws {
        let server = try ServeProcess.start(arguments: ["--processing-delay", "0", "--rate-limit", "20"])
        defer { server.stop() }
        let dir = try TemporaryDirectory("cli-throttled")
        defer { dir.remove() }
        let names = (0..<80).map { "f\($0).bin" }
        for (index, name) in names.enumerated() { try TestFiles.make(dir.appending(name), size: 1000 + index, seed: UInt64(index)) }

        let result = try ProcessRunner.run(
            tusfs, ["upload"] + names.map(dir.appending) + ["--endpoint", server.baseURL.absoluteString, "--max-requests", "64", "--verbose"])
        #expect(result.status == 0, "\(result.stderr.suffix(3000))")
        let uploaded = result.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["displayName"] as? String
        }
        #expect(uploaded == names, "every file, in the order given")
        // The service refused some requests, and the command said how many files it sends at once from then on:
        // fewer than --max-requests.
        let metrics = try await server.metrics()
        #expect(metrics.contains(#"status="429""#), "the service never throttled")
        let limits = result.stderr.split(separator: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: "at most ") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(!limits.isEmpty, "\(result.stderr.suffix(3000))")
        #expect(limits.allSatisfy { $0 < 64 }, "\(limits)")
        #expect(!result.stderr.contains("cannot take it yet"), "a 429 is a wait, not a failed try: \(result.stderr.suffix(2000))")
    }

    @Test("--tus uploads to a plain tus server and prints the upload URL")
    func uploadToTusServer() async throws {
        let server = try TusPeerServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory("cli-tus")
        defer { dir.remove() }
        let data = try TestFiles.make(dir.appending("clip.bin"), size: 2_000_000, seed: 5)
        let result = try ProcessRunner.run(
            tusfs, ["upload", dir.appending("clip.bin"), "--tus", server.endpoint.absoluteString, "--chunk-size", "500000"])
        #expect(result.status == 0, "\(result.stderr)")
        let url = try #require(URL(string: result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try server.storedData(of: url) == data)
    }

    @Test("import waits for READY (exit 0) or FAILED (non-zero)")
    func importCommand() throws {
        let server = try ServeProcess.start(arguments: ["--processing-delay", "0", "--import-allow-private"])
        defer { server.stop() }
        let dir = try TemporaryDirectory("cli-import")
        defer { dir.remove() }
        try TestFiles.make(dir.appending("src.bin"), size: 50_000, seed: 6)
        let uploaded = try ProcessRunner.run(tusfs, ["upload", dir.appending("src.bin"), "--endpoint", server.baseURL.absoluteString, "--wait"])
        #expect(uploaded.status == 0, "\(uploaded.stderr)")
        let source = try #require(try JSONSerialization.jsonObject(with: Data(uploaded.stdout.utf8)) as? [String: Any])
        let sourceURL = try #require(source["url"] as? String)

        let imported = try ProcessRunner.run(
            tusfs, ["import", sourceURL, "--name", "copy.bin", "--endpoint", server.baseURL.absoluteString, "--timeout", "60"])
        let object = try JSONSerialization.jsonObject(with: Data(imported.stdout.utf8)) as? [String: Any]
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(object?["displayName"] as? String == "copy.bin")
        #expect(object?["sizeInBytes"] as? String == "50000")

        let missing = try ProcessRunner.run(
            tusfs, ["import", server.baseURL.absoluteString + "/no-such-file", "--endpoint", server.baseURL.absoluteString, "--timeout", "60"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("FAILED"))
    }
}
