import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Settings from tusfs.toml, TUSFS_* variables and flags, and how the API key is kept out of sight.
@Suite("Configuration and secrets", .serialized)
struct ConfigurationTests {
    /// The value after `flag` on the daemon's command line (the launcher passes every resolved setting).
    func daemonValue(_ mount: TusfsMount, _ flag: String) -> String? {
        let arguments = mount.daemonCommandLine
        guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    @Test func flagsWinOverEnvironmentWhichWinsOverTheFile() throws {
        let directory = try TemporaryDirectory("config")
        defer { directory.remove() }
        let file = directory.appending("tusfs.toml")
        try """
            # a comment
            [mount]
            transfers = 2
            write_back = 5
            remote_folder = "/from-file"
            log_level = "debug"
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let mount = try TusfsMount(
            "config", extraArguments: ["--config", file, "--write-back", "0.5"],
            environment: ["TUSFS_WRITE_BACK": "3", "TUSFS_REMOTE_FOLDER": "/from-env", "TUSFS_TRANSFERS": ""])
        defer { mount.cleanup() }
        #expect(daemonValue(mount, "--transfers") == "2")  // file (an empty variable counts as unset)
        #expect(daemonValue(mount, "--write-back") == "0.5")  // flag over variable over file
        #expect(daemonValue(mount, "--remote-folder") == "/from-env")  // variable over file
        #expect(daemonValue(mount, "--log-level") == "debug")  // file over default
        #expect(daemonValue(mount, "--threads") == "8")  // default
        let log = try String(contentsOfFile: mount.cache + "/tusfs.log", encoding: .utf8)
        #expect(log.contains("config=\(file)") || log.contains(file), "the log names the config file")
    }

    /// `--log-format json`: every line of the daemon's log is one JSON object, and each upload that ends gets
    /// one line with its size, duration and attempts.
    @Test func jsonLogsHaveOneLinePerFinishedUpload() throws {
        try withTusfsMount("json-log", extraArguments: ["--log-format", "json", "--write-back", "0"]) { mount in
            try Data(repeating: 1, count: 5000).write(to: URL(fileURLWithPath: mount.path("a.bin")))
            let wait = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["wait", mount.mountpoint, "--timeout", "60"])
            #expect(wait.status == 0, "\(wait.stderr)")
            let log = try String(contentsOfFile: mount.cache + "/tusfs.log", encoding: .utf8)
            let objects = log.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(!objects.isEmpty && objects.allSatisfy { $0 != nil }, "not all lines are JSON:\n\(log.prefix(2000))")
            let ready = objects.compactMap { $0 }.filter { $0["message"] as? String == "upload ready" }
            #expect(ready.count == 1, "\(log.prefix(3000))")
            #expect(ready.first?["path"] as? String == "a.bin")
            #expect(ready.first?["size"] as? String == "5000")
            #expect(ready.first?["attempts"] != nil && ready.first?["seconds"] != nil && ready.first?["level"] as? String == "info")
        }
    }

    @Test func badConfigFilesGetOneLineNamingTheProblem() throws {
        let directory = try TemporaryDirectory("bad-config")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.appending("mnt"), withIntermediateDirectories: true)
        let cases: [(String, String)] = [
            ("[mount]\ntransfer = 3\n", "unknown key 'mount.transfer'"),
            ("[mount]\ntransfers = \"four\"\n", "mount.transfers has the wrong type"),
            ("[mount\n", "config file"),
            ("[mount]\ntransfers = 0\n", "transfers must be between 1 and 64"),
            ("[mount]\nendpoint = \"http://a\"\ntus = \"http://b\"\n", "not both"),
        ]
        for (index, (text, message)) in cases.enumerated() {
            let file = directory.appending("bad-\(index).toml")
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try ProcessRunner.run(
                ProcessRunner.tusfsExecutable, ["mount", directory.appending("mnt"), "--cache", directory.appending("cache"), "--config", file])
            #expect(!result.succeeded)
            #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(message), "\(text): \(result.stderr)")
            #expect(!MountTable.isMountPoint(directory.appending("mnt")))
        }
        let missing = try ProcessRunner.run(
            ProcessRunner.tusfsExecutable, ["mount", directory.appending("mnt"), "--config", directory.appending("nope.toml")])
        #expect(!missing.succeeded && missing.stderr.contains("does not exist"), "\(missing.stderr)")
    }

    @Test func aKeyFileOthersCanReadIsRefused() throws {
        let directory = try TemporaryDirectory("key-mode")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.appending("mnt"), withIntermediateDirectories: true)
        let key = directory.appending("key")
        try "secret-key\n".write(toFile: key, atomically: true, encoding: .utf8)
        chmod(key, 0o640)
        let result = try ProcessRunner.run(
            ProcessRunner.tusfsExecutable,
            ["mount", directory.appending("mnt"), "--cache", directory.appending("cache"), "--endpoint", "http://127.0.0.1:9", "--api-key-file", key])
        #expect(!result.succeeded)
        #expect(result.stderr.contains("readable by group or others") && result.stderr.contains("chmod 600"), "\(result.stderr)")
        #expect(!MountTable.isMountPoint(directory.appending("mnt")))
    }

    /// A wrong key: every upload fails with the service's 401, and the key shows up nowhere a user or an
    /// operator can look: not in `ps`, the daemon's log, the status xattrs, sidecars or status.json.
    @Test func theKeyNeverShowsAfterAFailingUpload() async throws {
        let server = try ServeProcess.start(arguments: ["--api-key", "the-right-key"])
        defer { server.stop() }
        let wrongKey = "wrong-key-" + UUID().uuidString
        let mount = try TusfsMount(
            "secret", extraArguments: ["--endpoint", server.apiURL.absoluteString, "--write-back", "0"],
            environment: ["TUSFS_API_KEY": wrongKey])
        defer { mount.cleanup() }
        try Data("payload\n".utf8).write(to: URL(fileURLWithPath: mount.path("a.txt")))
        let wait = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["wait", mount.mountpoint, "--timeout", "60"])
        #expect(wait.status == 1, "\(wait.stderr)")
        let error = try ProcessRunner.run("getfattr", ["--only-values", "-n", "user.tusfs.error", mount.path("a.txt")])
        #expect(error.stdout.contains("401") || error.stdout.lowercased().contains("key"), "\(error.stdout)")

        var places = [
            "ps": mount.daemonCommandLine.joined(separator: " "),
            "log": try String(contentsOfFile: mount.cache + "/tusfs.log", encoding: .utf8),
            "xattrs": try ProcessRunner.run("getfattr", ["-d", mount.path("a.txt")]).stdout,
            "sidecar": try String(contentsOfFile: mount.path("a.txt.tusfs.json"), encoding: .utf8),
            "status.json": try String(contentsOfFile: mount.path(".tusfs/status.json"), encoding: .utf8),
            "wait": wait.stderr,
        ]
        places["journal"] = String(decoding: FileManager.default.contents(atPath: mount.cache + "/journal.sqlite") ?? Data(), as: UTF8.self)
        for (place, text) in places {
            #expect(!text.contains(wrongKey), "the API key appears in \(place)")
        }
        #expect(!places["log"]!.isEmpty)
    }
}
