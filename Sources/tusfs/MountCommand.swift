import ArgumentParser
import Foundation
import MountDaemon

/// `tusfs mount MOUNTPOINT`: mounts the mirror filesystem over a local cache directory and uploads every
/// file written into it.
struct MountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount a tusfs directory.",
        discussion: """
            Files written into MOUNTPOINT are kept in the cache directory (default: under \
            $XDG_CACHE_HOME/tusfs, one per mountpoint) and uploaded in the background: to a Media Manager \
            service (--endpoint), to a plain tus server (--tus), or, with neither, to the stand-in service \
            run in-process with its data in CACHE/server. The command returns once the mount is ready; \
            with --foreground it prints "mounted" and serves until unmounted or interrupted.
            """)

    @Argument(help: "The directory to mount on (must exist and be empty).")
    var mountpoint: String

    @OptionGroup var service: ServiceOptions

    @Option(name: .customLong("tus"), help: ArgumentHelp("Upload to this plain tus endpoint instead (e.g. tusd).", valueName: "url"))
    var tusEndpoint: String?

    @Option(help: ArgumentHelp("Folder on the service that the mount's root maps to (default: the media root).", valueName: "path"))
    var remoteFolder: String?

    @Option(help: "Uploads moving bytes at the same time (default 4).")
    var transfers: Int?

    @Option(help: ArgumentHelp(
        "Most requests in flight at once (default 128); the mount sends fewer while the service throttles (429, 503) or slows down.",
        valueName: "n"))
    var maxRequests: Int?

    @Option(help: ArgumentHelp(
        "Largest tus PATCH (default 1G); PATCHes start at 64M and grow while the link is fast. A crash or a cut connection sends again at most the PATCH in flight.",
        valueName: "size"))
    var maxChunkSize: String?

    @Option(help: ArgumentHelp("Seconds of quiet after a file's last close before its upload starts (default 1).", valueName: "seconds"))
    var writeBack: Double?

    @Option(help: ArgumentHelp(
        "Longest wait between automatic retries of a failed upload (default 300); uploads that fail in a way that may pass are retried for as long as it takes.",
        valueName: "seconds"))
    var retryMaxDelay: Double?

    @Option(help: ArgumentHelp(
        "Settings file (TOML, [mount] table; default: $XDG_CONFIG_HOME/tusfs/tusfs.toml, then /etc/tusfs/tusfs.toml). Flags win over TUSFS_* variables, which win over the file.",
        valueName: "file"))
    var config: String?

    @Option(help: "The cache directory (created with mode 0700).")
    var cache: String?

    @Flag(help: "Stay in the foreground; print \"mounted\" when ready.")
    var foreground = false

    @Option(name: .customShort("o"), help: "FUSE mount options, comma-separated (e.g. allow_other,ro).")
    var options: [String] = []

    @Flag(help: "Serve every read and write in the daemon instead of handing open files to the kernel (FUSE passthrough).")
    var noPassthrough = false

    @Option(help: "Threads serving kernel requests at most (default 8).")
    var threads: UInt32?

    @Option(help: "Log level of the daemon's log (CACHE/tusfs.log): trace, debug, info (default), notice, warning, error.")
    var logLevel: String?

    @Option(help: "Log lines as text (default) or json (one object per line).")
    var logFormat: LogFormat?

    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://HOST:PORT/metrics (e.g. 127.0.0.1:9464).", valueName: "host:port"))
    var metricsListen: String?

    @Option(help: ArgumentHelp(
        "Take the service's File Ready / File Failed webhooks at http://HOST:PORT/webhook (point the service's webhook there): files are READY as soon as the service says so, and status polls become a rare fallback. Needs --webhook-secret-file.",
        valueName: "host:port"))
    var webhookListen: String?

    @Option(help: ArgumentHelp("File holding the key the service signs its webhooks with (first line; also TUSFS_WEBHOOK_SECRET).", valueName: "file"))
    var webhookSecretFile: String?

    @Option(help: ArgumentHelp(
        "Most file data the cache may hold (K, M, G, T suffixes; default: no cap of its own, --cache-min-free applies). Files the service holds are evicted, least recently used first, and read back when opened.",
        valueName: "size"))
    var cacheMaxSize: String?

    @Option(help: ArgumentHelp("Free space kept on the cache's filesystem, a size or a percentage (default 10%).", valueName: "size|N%"))
    var cacheMinFree: String?

    @Option(help: ArgumentHelp(
        "Seconds a writer of a new file waits for room in a full cache (uploads, then eviction) before ENOSPC (default 120).",
        valueName: "seconds"))
    var cacheFullWait: Double?

    /// Set by the background launcher: the descriptor on which the daemon reports readiness.
    @Option(help: .hidden)
    var readyFd: Int32?

    /// Inodes the kernel may make the daemon hold before it asks the kernel to forget some (default: 16,384, or
    /// half the open-file limit when that is less). For tests of that bound.
    @Option(help: .hidden)
    var maxInodes: Int?

    func run() async throws {
        service.warnIfTheKeyIsAnArgument()
        let mountpoint = try MountpointCheck.resolve(self.mountpoint)
        try MountpointCheck.verify(mountpoint)
        let settings = try MountSettings(
            flags: flags, environment: ProcessInfo.processInfo.environment, file: try ConfigurationFile.load(explicit: config))
        try await MountedDaemon(mountpoint: mountpoint, settings: settings, maxInodes: maxInodes)
            .run(foreground: foreground, readyDescriptor: readyFd)
    }

    /// The settings given as flags, for `MountSettings` to merge with the environment and the config file.
    private var flags: MountFlags {
        MountFlags(
            endpoint: service.endpoint, apiKey: service.apiKey, apiKeyFile: service.apiKeyFile, siteId: service.siteId,
            caFile: service.caFile, tus: tusEndpoint, remoteFolder: remoteFolder, transfers: transfers, maxRequests: maxRequests, maxChunkSize: maxChunkSize, writeBack: writeBack,
            retryMaxDelay: retryMaxDelay,
            cache: cache, threads: threads, noPassthrough: noPassthrough, logLevel: logLevel, logFormat: logFormat,
            metricsListen: metricsListen, options: options, cacheMaxSize: cacheMaxSize, cacheMinFree: cacheMinFree,
            cacheFullWait: cacheFullWait, webhookListen: webhookListen, webhookSecretFile: webhookSecretFile)
    }
}
