import FUSEAdapter
import Foundation
import Logging
import MirrorFilesystem
import UploadEngine
import UploadTargets
#if canImport(Glibc)
import Glibc
#endif

/// What `tusfs mount` does once its command line is read: prepares the cache directory, then either starts
/// itself as a detached daemon and waits until that daemon's mount is ready, or (`--foreground`, and in the
/// daemon) mounts the mirror filesystem and serves it until it is unmounted.
public struct MountedDaemon: Sendable {
    /// The directory mounted on: absolute, symlinks resolved (`MountpointCheck.resolve`).
    public let mountpoint: String
    public let settings: MountSettings
    /// Inodes the kernel may make the daemon hold before it asks the kernel to forget some (default: half the
    /// open-file limit).
    public let maxInodes: Int?
    /// The inodes the kernel may make the daemon hold before it is asked to forget some, when the open-file
    /// limit allows that many.
    public static let defaultMaxInodes = 16_384

    /// A mount of `mountpoint` with `settings`; nothing happens until `run`.
    public init(mountpoint: String, settings: MountSettings, maxInodes: Int? = nil) {
        self.mountpoint = mountpoint
        self.settings = settings
        self.maxInodes = maxInodes
    }

    /// Mounts. In the background (`foreground` false): starts the daemon and returns once its mount is ready.
    /// In the foreground: serves until unmounted, telling the launcher on `readyDescriptor` (`--ready-fd`)
    /// when the mount is ready or why it failed, and printing "mounted" on stdout when there is no launcher.
    public func run(foreground: Bool, readyDescriptor: Int32?) async throws {
        let userOptions = try MountOptions.parse(settings.options)
        let destination = try UploadDestination(settings: settings)
        let cache = try CacheDirectory.prepare(settings.cache.map(MountpointCheck.absolute) ?? CacheDirectory.defaultPath(for: mountpoint))
        if !foreground {
            var environment = destination.daemonEnvironment
            if let secret = settings.webhookSecret { environment[MountSettings.Variable.webhookSecret] = secret }
            try BackgroundDaemon.start(arguments: daemonArguments(cache: cache), environment: environment, log: cache.log)
            return
        }
        let report = ReadinessReport(descriptor: readyDescriptor)
        do {
            try await serve(userOptions: userOptions, destination: destination, cache: cache, report: report)
        } catch {
            report.failed("\(error)")
            throw error
        }
    }

    private func serve(userOptions: [String], destination: UploadDestination, cache: CacheDirectory, report: ReadinessReport) async throws {
        let lock = try cache.lock()
        defer { close(lock) }
        let openFiles = ResourceLimits.raiseOpenFiles()
        DaemonMemory.limitArenaGrowth()
        settings.logFormat.bootstrap(level: settings.logLevel)
        let logger = Logger(label: "tusfs.mount")
        let registry = settings.metricsListen.map { _ in MetricsEndpoint.bootstrap() }

        // Before the journal is compared with the cache: an eviction or a read-back cut short by a crash must
        // not look like a change to upload.
        let intents = cache.path + "/cache-intents"
        mkdir(intents, 0o700)
        let repaired = MirrorFilesystem.repairInterruptedCacheChanges(files: cache.files, intentsDirectory: intents)
        if repaired > 0 { logger.info("put back the times of files an eviction or a read-back left", metadata: ["files": "\(repaired)"]) }
        let uploads = try await UploadRuntime.start(
            destination: destination, cache: cache, maxChunkSize: settings.maxChunkSize,
            configuration: UploadEngineConfiguration(
                writeBackDelay: .milliseconds(Int64(settings.writeBack * 1000)), parallelTransfers: settings.transfers,
                maxRequests: settings.maxRequests,
                retryPolicy: RetryPolicy(cap: .milliseconds(Int64(settings.retryMaxDelay * 1000))),
                processingPollPolicy: settings.webhookListen == nil ? .processingPolls : .processingPollsBesideWebhooks),
            logger: logger)
        var metrics: MetricsEndpoint?
        var webhooks: WebhookReceiver?
        let cacheMetrics = CacheMetrics()
        let session: FUSESession
        do {
            if let registry, let listen = settings.metricsListen {
                let (host, port) = try MetricsEndpoint.address(listen)
                metrics = try await MetricsEndpoint.start(
                    host: host, port: port, registry: registry, engine: uploads.engine, cache: cacheMetrics,
                    logger: Logger(label: "tusfs.metrics"))
                logger.info("metrics at \(metrics!.url.absoluteString)/metrics")
            }
            if let listen = settings.webhookListen, let secret = settings.webhookSecret {
                let (host, port) = try MetricsEndpoint.address(listen, option: "webhook-listen")
                webhooks = try await WebhookReceiver.start(
                    host: host, port: port, secret: secret, engine: uploads.engine, logger: Logger(label: "tusfs.webhooks"))
                logger.info("taking the service's webhooks at \(webhooks!.url.absoluteString)")
            }
            let filesystem: MirrorFilesystem
            do {
                var mirrorOptions = MirrorOptions()
                // Every inode held is a descriptor; the other half of the limit is left for open files, the
                // journal, the connections and the embedded service. And every inode held costs the daemon about
                // a KiB: at most `defaultMaxInodes`, so its memory does not grow with every file ever copied in.
                mirrorOptions.maxCachedInodes = maxInodes ?? max(256, min(openFiles / 2, Self.defaultMaxInodes))
                mirrorOptions.cacheLimits = settings.cacheLimits
                mirrorOptions.cacheIntentsDirectory = intents
                filesystem = try MirrorFilesystem(
                    root: cache.files, options: mirrorOptions, observer: EngineObserver(events: uploads.engine),
                    statusProvider: EngineStatusProvider(engine: uploads.engine, remoteName: { RemoteLocation.remoteFileName(of: $0) }),
                    remoteCopies: uploads.remoteCopies)
            } catch {
                throw MountError("cannot open \(cache.files): \(error)")
            }
            cacheMetrics.attach(filesystem.cacheSpace)
            do {
                session = try FUSESession(
                    filesystem: filesystem, mountpoint: mountpoint,
                    options: userOptions + ["default_permissions", "fsname=\(MountOptions.source(cache.path))", "subtype=tusfs"],
                    settings: Self.connectionSettings(passthrough: settings.passthrough, timed: registry != nil),
                    maxThreads: settings.threads)
            } catch {
                throw MountError(error.description)
            }
        } catch {
            await webhooks?.stop()
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
        if report.descriptor == nil { FileHandle.standardOutput.write(Data("mounted\n".utf8)) }
        SystemdNotify.send("READY=1\nSTATUS=mounted on \(mountpoint), uploading to \(uploads.description)")
        let engine = uploads.engine
        let trimming = DaemonMemory.returnFreedMemoryWhenIdle {
            let root = engine.currentSubtreeSummary(of: "")
            let settled = (root.totals[.ready] ?? 0) + root.failed_for_good
            return (idle: settled == root.files && root.reconciling == nil, work: root.files &+ settled &* 31)
        }
        await Self.runOnOwnThread(session)
        trimming.cancel()
        SystemdNotify.send("STOPPING=1")
        logger.info("unmounted, stopping uploads (unfinished ones resume at the next mount)")
        await webhooks?.stop()
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
    func daemonArguments(cache: CacheDirectory) -> [String] {
        var arguments = ["mount", mountpoint, "--foreground", "--cache", cache.path, "--threads", "\(settings.threads)"]
        if let configPath = settings.configPath { arguments += ["--config", configPath] }
        for option in settings.options { arguments += ["-o", option] }
        if !settings.passthrough { arguments.append("--no-passthrough") }
        if let endpoint = settings.endpoint { arguments += ["--endpoint", endpoint] }
        if let siteId = settings.credentials.siteID { arguments += ["--site-id", siteId] }
        if let tus = settings.tus { arguments += ["--tus", tus] }
        if let remoteFolder = settings.remoteFolder { arguments += ["--remote-folder", remoteFolder] }
        if let metricsListen = settings.metricsListen { arguments += ["--metrics-listen", metricsListen] }
        if let webhookListen = settings.webhookListen { arguments += ["--webhook-listen", webhookListen] }
        if let caFile = settings.caFile { arguments += ["--ca-file", MountpointCheck.absolute(caFile)] }
        if let maxInodes { arguments += ["--max-inodes", "\(maxInodes)"] }
        let limits = settings.cacheLimits
        arguments += [
            "--cache-max-size", "\(limits.maxSize ?? 0)", "--cache-min-free", "\(limits.minFree)",
            "--cache-full-wait", "\(limits.fullWait)",
        ]
        arguments += [
            "--transfers", "\(settings.transfers)", "--max-requests", "\(settings.maxRequests)",
            "--max-chunk-size", "\(settings.maxChunkSize)", "--write-back", "\(settings.writeBack)",
            "--retry-max-delay", "\(settings.retryMaxDelay)", "--log-level", settings.logLevel.rawValue,
            "--log-format", settings.logFormat.rawValue,
        ]
        return arguments
    }
}
