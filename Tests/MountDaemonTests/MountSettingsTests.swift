import Foundation
import Logging
@testable import MountDaemon
import MirrorFilesystem
import TestSupport
import Testing

@Suite("Mount settings: flags, then TUSFS_* variables, then the config file, then the defaults")
struct MountSettingsTests {
    func file(_ toml: String, in directory: TemporaryDirectory) throws -> ConfigurationFile {
        let path = directory.appending("tusfs.toml")
        try toml.write(toFile: path, atomically: true, encoding: .utf8)
        return try ConfigurationFile.load(explicit: path, environment: [:])
    }

    @Test func flagsWinOverVariablesWhichWinOverTheFile() throws {
        let directory = try TemporaryDirectory("settings")
        defer { directory.remove() }
        let config = try file(
            """
            [mount]
            transfers = 2
            write_back = 5
            remote_folder = "/from-file"
            log_level = "debug"
            """, in: directory)
        let settings = try MountSettings(
            flags: MountFlags(writeBack: 0.5),
            environment: ["TUSFS_WRITE_BACK": "3", "TUSFS_REMOTE_FOLDER": "/from-env", "TUSFS_TRANSFERS": ""], file: config)
        #expect(settings.transfers == 2)  // file (an empty variable counts as unset)
        #expect(settings.writeBack == 0.5)  // flag over variable over file
        #expect(settings.remoteFolder == "/from-env")  // variable over file
        #expect(settings.logLevel == .debug)  // file over default
        #expect(settings.threads == 8)  // default
        #expect(settings.configPath == config.path)
    }

    @Test func theLongestRetryDelayComesFromTheFlagTheVariableOrTheFile() throws {
        let directory = try TemporaryDirectory("settings")
        defer { directory.remove() }
        let config = try file("[mount]\nretry_max_delay = 60\n", in: directory)
        #expect(try MountSettings(flags: MountFlags(), environment: [:], file: config).retryMaxDelay == 60)
        #expect(try MountSettings(flags: MountFlags(), environment: ["TUSFS_RETRY_MAX_DELAY": "2.5"], file: config).retryMaxDelay == 2.5)
        #expect(try MountSettings(flags: MountFlags(retryMaxDelay: 2), environment: ["TUSFS_RETRY_MAX_DELAY": "9"], file: config)
            .retryMaxDelay == 2)
    }

    @Test func theRequestCapComesFromTheFlagTheVariableOrTheFile() throws {
        let directory = try TemporaryDirectory("settings")
        defer { directory.remove() }
        let config = try file("[mount]\nmax_requests = 64\n", in: directory)
        #expect(try MountSettings(flags: MountFlags(), environment: [:], file: .none).maxRequests == 128)
        #expect(try MountSettings(flags: MountFlags(), environment: [:], file: config).maxRequests == 64)
        #expect(try MountSettings(flags: MountFlags(), environment: ["TUSFS_MAX_REQUESTS": "32"], file: config).maxRequests == 32)
        #expect(try MountSettings(flags: MountFlags(maxRequests: 8), environment: ["TUSFS_MAX_REQUESTS": "32"], file: config)
            .maxRequests == 8)
    }

    @Test func theLargestPatchComesFromTheFlagTheVariableOrTheFileAndReachesTheDaemon() throws {
        let directory = try TemporaryDirectory("settings")
        defer { directory.remove() }
        let config = try file("[mount]\nmax_chunk_size = \"256M\"\n", in: directory)
        #expect(try MountSettings(flags: MountFlags(), environment: [:], file: .none).maxChunkSize == 1 << 30)
        #expect(try MountSettings(flags: MountFlags(), environment: [:], file: config).maxChunkSize == 256 << 20)
        #expect(try MountSettings(flags: MountFlags(), environment: ["TUSFS_MAX_CHUNK_SIZE": "64M"], file: config).maxChunkSize == 64 << 20)
        let settings = try MountSettings(flags: MountFlags(maxChunkSize: "2G"), environment: ["TUSFS_MAX_CHUNK_SIZE": "64M"], file: config)
        #expect(settings.maxChunkSize == 2 << 30)
        let arguments = MountedDaemon(mountpoint: "/mnt/up", settings: settings).daemonArguments(cache: CacheDirectory(path: "/c"))
        let index = try #require(arguments.firstIndex(of: "--max-chunk-size"))
        #expect(arguments[index + 1] == "\(2 << 30)")
        for (flags, environment, words) in [
            (MountFlags(maxChunkSize: "big"), [:], "--max-chunk-size must be a size from 1M to 1T"),
            (MountFlags(maxChunkSize: "100k"), [:], "--max-chunk-size must be a size from 1M to 1T"),
            (MountFlags(), ["TUSFS_MAX_CHUNK_SIZE": "0"], "TUSFS_MAX_CHUNK_SIZE must be a size from 1M to 1T"),
        ] {
            #expect {
                try MountSettings(flags: flags, environment: environment, file: .none)
            } throws: { error in
                (error as? MountError)?.description.contains(words) == true
            }
        }
    }

    /// `--webhook-listen` needs the webhook key (a 0600 file, or the variable), is refused with `--tus`, and
    /// reaches the daemon as an argument while the key goes in its environment, never its arguments.
    @Test func webhooksNeedTheirKeyWhichReachesTheDaemonOnlyInItsEnvironment() throws {
        let directory = try TemporaryDirectory("settings")
        defer { directory.remove() }
        let keyFile = directory.appending("webhook-key")
        try "hook-key\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        chmod(keyFile, 0o600)
        let config = try file("[mount]\nwebhook_listen = \"127.0.0.1:9911\"\nwebhook_secret_file = \"\(keyFile)\"\n", in: directory)
        let fromFile = try MountSettings(flags: MountFlags(endpoint: "https://example.com/api"), environment: [:], file: config)
        #expect(fromFile.webhookListen == "127.0.0.1:9911")
        #expect(fromFile.webhookSecret == "hook-key")
        let settings = try MountSettings(
            flags: MountFlags(endpoint: "https://example.com/api", webhookListen: "127.0.0.1:9912"),
            environment: ["TUSFS_WEBHOOK_SECRET": "other-key"], file: config)
        #expect(settings.webhookListen == "127.0.0.1:9912")
        #expect(settings.webhookSecret == "other-key")
        let arguments = MountedDaemon(mountpoint: "/mnt/up", settings: settings).daemonArguments(cache: CacheDirectory(path: "/c"))
        let index = try #require(arguments.firstIndex(of: "--webhook-listen"))
        #expect(arguments[index + 1] == "127.0.0.1:9912")
        #expect(!arguments.contains { $0.contains("other-key") || $0.contains("hook-key") })
        chmod(keyFile, 0o644)
        for (flags, environment, words) in [
            (MountFlags(endpoint: "https://example.com/api", webhookListen: "127.0.0.1:9911"), [String: String](),
             "webhook-listen needs the key the service signs its webhooks with"),
            (MountFlags(endpoint: "https://example.com/api", webhookListen: "nowhere"), ["TUSFS_WEBHOOK_SECRET": "k"],
             "webhook-listen must be HOST:PORT, got nowhere"),
            (MountFlags(tus: "https://tus.example.com/files/", webhookListen: "127.0.0.1:9911"), ["TUSFS_WEBHOOK_SECRET": "k"],
             "a plain tus server (--tus) sends no webhooks"),
            (MountFlags(webhookListen: "127.0.0.1:9911", webhookSecretFile: keyFile), [:], "is readable by group or others"),
        ] {
            #expect {
                try MountSettings(flags: flags, environment: environment, file: .none)
            } throws: { error in
                (error as? MountError)?.description.contains(words) == true
            }
        }
    }

    @Test func withNothingGivenEverySettingIsItsDefault() throws {
        let settings = try MountSettings(flags: MountFlags(), environment: [:], file: .none)
        #expect(settings.endpoint == nil && settings.tus == nil)
        #expect(settings.transfers == 4)
        #expect(settings.writeBack == 1)
        #expect(settings.retryMaxDelay == 300)
        #expect(settings.threads == 8)
        #expect(settings.passthrough)
        #expect(settings.logLevel == .info)
        #expect(settings.logFormat == .text)
        #expect(settings.options.isEmpty)
        #expect(settings.configPath == nil)
    }

    @Test func theDestinationComesWhole() throws {
        let settings = try MountSettings(
            flags: MountFlags(tus: "http://flag/files"), environment: ["TUSFS_ENDPOINT": "http://env/api"], file: .none)
        #expect(settings.tus == "http://flag/files")
        #expect(settings.endpoint == nil, "the flag's destination wins whole, the variable's endpoint is not mixed in")
        #expect(throws: MountError.self) {
            try MountSettings(flags: MountFlags(endpoint: "http://a", tus: "http://b"), environment: [:], file: .none)
        }
    }

    @Test func theNoPassthroughFlagWinsOverTheVariable() throws {
        #expect(try MountSettings(flags: MountFlags(noPassthrough: true), environment: ["TUSFS_PASSTHROUGH": "yes"], file: .none)
            .passthrough == false)
        #expect(try MountSettings(flags: MountFlags(), environment: ["TUSFS_PASSTHROUGH": "off"], file: .none).passthrough == false)
    }

    @Test(arguments: [
        (["TUSFS_TRANSFERS": "many"], "TUSFS_TRANSFERS is not a valid transfers: many"),
        (["TUSFS_TRANSFERS": "65"], "transfers must be between 1 and 64, got 65"),
        (["TUSFS_MAX_REQUESTS": "0"], "max-requests must be between 1 and 1024, got 0"),
        (["TUSFS_MAX_REQUESTS": "lots"], "TUSFS_MAX_REQUESTS is not a valid max-requests: lots"),
        (["TUSFS_WRITE_BACK": "-1"], "write-back must be between 0 and 86400 seconds, got -1.0"),
        (["TUSFS_RETRY_MAX_DELAY": "0"], "retry-max-delay must be between 0.01 and 86400 seconds, got 0.0"),
        (["TUSFS_RETRY_MAX_DELAY": "soon"], "TUSFS_RETRY_MAX_DELAY is not a valid retry-max-delay: soon"),
        (["TUSFS_LOG_LEVEL": "loud"], "log level \"loud\" is not one of trace, debug, info, notice, warning, error"),
        (["TUSFS_PASSTHROUGH": "maybe"], "TUSFS_PASSTHROUGH must be true or false, got maybe"),
        (["TUSFS_METRICS_LISTEN": "nowhere"], "metrics-listen must be HOST:PORT, got nowhere"),
    ])
    func aBadValueIsOneLineNamingIt(environment: [String: String], message: String) {
        #expect {
            try MountSettings(flags: MountFlags(), environment: environment, file: .none)
        } throws: { error in
            (error as? MountError)?.description == message
        }
    }

    @Test func anUnknownKeyInTheFileIsAnError() throws {
        let directory = try TemporaryDirectory("settings")
        defer { directory.remove() }
        #expect {
            try file("[mount]\ntransfer = 2\n", in: directory)
        } throws: { error in
            (error as? MountError)?.description.hasSuffix("unknown key 'mount.transfer'") == true
        }
    }

    @Test func theDaemonGetsEverySettingButTheKey() throws {
        let settings = try MountSettings(
            flags: MountFlags(apiKey: "secret", siteId: "site", caFile: "/ca.pem", transfers: 3, maxRequests: 48, options: ["ro"]),
            environment: ["TUSFS_ENDPOINT": "https://example.com/api"], file: .none)
        let daemon = MountedDaemon(mountpoint: "/mnt/up", settings: settings, maxInodes: 300)
        let arguments = daemon.daemonArguments(cache: CacheDirectory(path: "/var/cache/up"))
        #expect(arguments.starts(with: ["mount", "/mnt/up", "--foreground", "--cache", "/var/cache/up"]))
        #expect(!arguments.contains("secret"))
        for (flag, value) in [
            ("--endpoint", "https://example.com/api"), ("--site-id", "site"), ("--ca-file", "/ca.pem"), ("--transfers", "3"),
            ("--max-requests", "48"), ("-o", "ro"), ("--max-inodes", "300"), ("--log-format", "text"),
        ] {
            let index = try #require(arguments.firstIndex(of: flag), "\(flag) missing from \(arguments)")
            #expect(arguments[index + 1] == value)
        }
        #expect(try UploadDestination(settings: settings).daemonEnvironment == ["TUSFS_API_KEY": "secret"])
    }

    @Test func theCacheLimitsComeFromFlagsVariablesAndTheFileWithSafeDefaults() throws {
        let directory = try TemporaryDirectory("settings")
        defer { directory.remove() }
        let none = try MountSettings(flags: MountFlags(), environment: [:], file: .none)
        #expect(none.cacheLimits == CacheLimits(maxSize: nil, minFree: .percent(10), fullWait: 120))

        let config = try file("[mount]\ncache_max_size = \"2G\"\ncache_min_free = 1048576\ncache_full_wait = 30\n", in: directory)
        let fromFile = try MountSettings(flags: MountFlags(), environment: [:], file: config)
        #expect(fromFile.cacheLimits == CacheLimits(maxSize: 2 << 30, minFree: .bytes(1 << 20), fullWait: 30))

        let fromVariables = try MountSettings(
            flags: MountFlags(), environment: ["TUSFS_CACHE_MAX_SIZE": "64M", "TUSFS_CACHE_MIN_FREE": "5%", "TUSFS_CACHE_FULL_WAIT": "7"],
            file: config)
        #expect(fromVariables.cacheLimits == CacheLimits(maxSize: 64 << 20, minFree: .percent(5), fullWait: 7))

        let fromFlags = try MountSettings(
            flags: MountFlags(cacheMaxSize: "1.5T", cacheMinFree: "0", cacheFullWait: 0),
            environment: ["TUSFS_CACHE_MAX_SIZE": "64M"], file: config)
        #expect(fromFlags.cacheLimits == CacheLimits(maxSize: Int64(1.5 * 1_099_511_627_776), minFree: .bytes(0), fullWait: 0))

        // What the daemon is started with reads back the same.
        let arguments = MountedDaemon(mountpoint: "/mnt/up", settings: fromVariables).daemonArguments(cache: CacheDirectory(path: "/c"))
        let value = { (flag: String) in arguments[arguments.firstIndex(of: flag)! + 1] }
        let again = try MountSettings(
            flags: MountFlags(
                cacheMaxSize: value("--cache-max-size"), cacheMinFree: value("--cache-min-free"),
                cacheFullWait: Double(value("--cache-full-wait"))),
            environment: [:], file: .none)
        #expect(again.cacheLimits == fromVariables.cacheLimits)
    }

    @Test func aBadCacheLimitIsAOneLineError() throws {
        for (flags, words) in [
            (MountFlags(cacheMaxSize: "lots"), "--cache-max-size must be a size"),
            (MountFlags(cacheMaxSize: "-5G"), "--cache-max-size must be a size"),
            (MountFlags(cacheMinFree: "95%"), "--cache-min-free must be a size such as 10G or a percentage"),
            (MountFlags(cacheFullWait: -1), "cache-full-wait must be between 0 and 86400"),
        ] {
            #expect {
                try MountSettings(flags: flags, environment: [:], file: .none)
            } throws: { error in
                (error as? MountError)?.description.contains(words) == true
            }
        }
        #expect(CacheLimits.size("4096") == 4096)
        #expect(CacheLimits.size("10k") == 10 << 10)
        #expect(CacheLimits.size("3MiB") == 3 << 20)
        #expect(CacheLimits.size("G") == nil)
    }
}
