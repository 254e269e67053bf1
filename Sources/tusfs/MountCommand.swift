import ArgumentParser
import FUSEAdapter
import Foundation
import Logging
import MirrorFilesystem
import UploadEngine
#if canImport(Glibc)
import Glibc
#endif

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

    @Option(help: ArgumentHelp("Seconds of quiet after a file's last close before its upload starts (default 1).", valueName: "seconds"))
    var writeBack: Double?

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

    /// Set by the background launcher: the descriptor on which the daemon reports readiness.
    @Option(help: .hidden)
    var readyFd: Int32?

    /// Inodes the kernel may make the daemon hold before it asks the kernel to forget some (default: half the
    /// open-file limit). For tests of that bound.
    @Option(help: .hidden)
    var maxInodes: Int?

    func run() async throws {
        let mountpoint = try MountpointCheck.resolve(self.mountpoint)
        try MountpointCheck.verify(mountpoint)
        let settings = try MountSettings(
            command: self, environment: ProcessInfo.processInfo.environment, file: try ConfigurationFile.load(explicit: config))
        let userOptions = try MountOptions.parse(settings.options)
        let choice = try UploadDestination(settings: settings)
        let cache = try CacheDirectory.prepare(settings.cache.map(MountpointCheck.absolute) ?? CacheDirectory.defaultPath(for: mountpoint))
        if !foreground {
            try BackgroundDaemon.start(
                arguments: Self.daemonArguments(mountpoint: mountpoint, cache: cache, settings: settings, maxInodes: maxInodes),
                environment: choice.daemonEnvironment, log: cache.log)
            return
        }
        let report = ReadinessReport(descriptor: readyFd)
        do {
            try await serve(
                mountpoint: mountpoint, userOptions: userOptions, settings: settings, destination: choice, cache: cache, report: report)
        } catch {
            report.failed("\(error)")
            throw error
        }
    }

    private func serve(
        mountpoint: String, userOptions: [String], settings: MountSettings, destination: UploadDestination,
        cache: CacheDirectory, report: ReadinessReport
    ) async throws {
        let lock = try cache.lock()
        defer { close(lock) }
        let openFiles = ResourceLimits.raiseOpenFiles()
        DaemonMemory.limitArenaGrowth()
        settings.logFormat.bootstrap(level: settings.logLevel)
        let logger = Logger(label: "tusfs.mount")
        let registry = settings.metricsListen.map { _ in MetricsEndpoint.bootstrap() }

        let uploads = try await UploadRuntime.start(
            destination: destination, cache: cache,
            configuration: UploadEngineConfiguration(
                writeBackDelay: .milliseconds(Int64(settings.writeBack * 1000)), parallelTransfers: settings.transfers),
            logger: logger)
        var metrics: MetricsEndpoint?
        let session: FUSESession
        do {
            if let registry, let listen = settings.metricsListen {
                let (host, port) = try MetricsEndpoint.address(listen)
                metrics = try await MetricsEndpoint.start(
                    host: host, port: port, registry: registry, engine: uploads.engine, logger: Logger(label: "tusfs.metrics"))
                logger.info("metrics at \(metrics!.url.absoluteString)/metrics")
            }
            let filesystem: MirrorFilesystem
            do {
                var mirrorOptions = MirrorOptions()
                // Every inode held is a descriptor; the other half of the limit is left for open files, the
                // journal, the connections and the embedded service.
                mirrorOptions.maxCachedInodes = maxInodes ?? max(256, openFiles / 2)
                filesystem = try MirrorFilesystem(
                    root: cache.files, options: mirrorOptions, observer: EngineObserver(engine: uploads.engine),
                    statusProvider: EngineStatusProvider(engine: uploads.engine))
            } catch {
                throw CommandError("cannot open \(cache.files): \(error)")
            }
            do {
                session = try FUSESession(
                    filesystem: filesystem, mountpoint: mountpoint,
                    options: userOptions + ["default_permissions", "fsname=\(MountOptions.source(cache.path))", "subtype=tusfs"],
                    settings: Self.connectionSettings(passthrough: settings.passthrough, timed: registry != nil),
                    maxThreads: settings.threads)
            } catch {
                throw CommandError(error.description)
            }
        } catch {
            await metrics?.stop()
            await uploads.stop()
            throw error
        }
        try? "\(getpid())\n".write(toFile: cache.pidFile, atomically: true, encoding: .utf8)
        logger.info(
            "mounted",
            metadata: [
                "mountpoint": "\(mountpoint)", "cache": "\(cache.path)", "uploads_to": "\(uploads.description)",
                "config": "\(settings.configPath ?? "none")",
            ])
        report.ready()
        // Told to the person who ran --foreground; a detached daemon's stdout is its log.
        if readyFd == nil { FileHandle.standardOutput.write(Data("mounted\n".utf8)) }
        SystemdNotify.send("READY=1\nSTATUS=mounted on \(mountpoint), uploading to \(uploads.description)")
        await Self.runOnOwnThread(session)
        SystemdNotify.send("STOPPING=1")
        logger.info("unmounted, stopping uploads (unfinished ones resume at the next mount)")
        await uploads.stop()
        await metrics?.stop()
        unlink(cache.pidFile)
    }

    /// Runs the FUSE loop (which blocks its thread until unmount) off Swift's cooperative pool.
    private static func runOnOwnThread(_ session: FUSESession) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                _ = session.run()
                continuation.resume()
            }
            thread.name = "fuse-session"
            thread.start()
        }
    }

    private static func connectionSettings(passthrough: Bool, timed: Bool) -> ConnectionSettings {
        var settings = ConnectionSettings()
        settings.passthrough = passthrough
        settings.recordsOperationTimes = timed
        return settings
    }

    /// The daemon's arguments: every resolved setting but the API key, which goes in its environment
    /// (arguments are visible to every user in `ps`).
    private static func daemonArguments(
        mountpoint: String, cache: CacheDirectory, settings: MountSettings, maxInodes: Int?
    ) -> [String] {
        var arguments = ["mount", mountpoint, "--foreground", "--cache", cache.path, "--threads", "\(settings.threads)"]
        if let configPath = settings.configPath { arguments += ["--config", configPath] }
        for option in settings.options { arguments += ["-o", option] }
        if !settings.passthrough { arguments.append("--no-passthrough") }
        if let endpoint = settings.endpoint { arguments += ["--endpoint", endpoint] }
        if let siteId = settings.credentials.siteID { arguments += ["--site-id", siteId] }
        if let tus = settings.tus { arguments += ["--tus", tus] }
        if let remoteFolder = settings.remoteFolder { arguments += ["--remote-folder", remoteFolder] }
        if let metricsListen = settings.metricsListen { arguments += ["--metrics-listen", metricsListen] }
        if let caFile = settings.caFile { arguments += ["--ca-file", MountpointCheck.absolute(caFile)] }
        if let maxInodes { arguments += ["--max-inodes", "\(maxInodes)"] }
        arguments += [
            "--transfers", "\(settings.transfers)", "--write-back", "\(settings.writeBack)", "--log-level", settings.logLevel.rawValue,
            "--log-format", settings.logFormat.rawValue,
        ]
        return arguments
    }
}

/// `-o` options: the user's, checked for the ones tusfs sets itself.
enum MountOptions {
    static func parse(_ raw: [String]) throws -> [String] {
        let options = raw.flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
        for option in options {
            let key = option.split(separator: "=", maxSplits: 1).first.map(String.init) ?? option
            if ["fsname", "subtype"].contains(key) {
                throw CommandError("-o \(key) is set by tusfs itself")
            }
            if option.contains(" ") { throw CommandError("invalid mount option '\(option)'") }
        }
        return options
    }

    /// The mount's source as `/proc/mounts` shows it: `tusfs:CACHEDIR`, so `tusfs unmount` finds the daemon.
    static func source(_ cachePath: String) -> String {
        cachePath.contains(",") ? "tusfs" : "tusfs:\(cachePath)"
    }
}
