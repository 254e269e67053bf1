import ArgumentParser
import FUSEAdapter
import Foundation
import MirrorFilesystem
#if canImport(Glibc)
import Glibc
#endif

/// `tusfs mount MOUNTPOINT`: mounts the mirror filesystem over a local cache directory.
struct MountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount a tusfs directory.",
        discussion: """
            Files written into MOUNTPOINT are kept in the cache directory (default: under \
            $XDG_CACHE_HOME/tusfs, one per mountpoint). The command returns once the mount is ready; \
            with --foreground it prints "mounted" and serves until unmounted or interrupted.
            """)

    @Argument(help: "The directory to mount on (must exist and be empty).")
    var mountpoint: String

    @Option(help: "The cache directory (created with mode 0700).")
    var cache: String?

    @Flag(help: "Stay in the foreground; print \"mounted\" when ready.")
    var foreground = false

    @Option(name: .customShort("o"), help: "FUSE mount options, comma-separated (e.g. allow_other,ro).")
    var options: [String] = []

    @Flag(help: "Serve every read and write in the daemon instead of handing open files to the kernel (FUSE passthrough).")
    var noPassthrough = false

    @Option(help: "Threads serving kernel requests at most.")
    var threads: UInt32 = 8

    /// Set by the background launcher: the descriptor on which the daemon reports readiness.
    @Option(help: .hidden)
    var readyFd: Int32?

    func validate() throws {
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
    }

    func run() throws {
        let mountpoint = try MountpointCheck.resolve(self.mountpoint)
        try MountpointCheck.verify(mountpoint)
        let userOptions = try MountOptions.parse(options)
        let cache = try CacheDirectory.prepare(cache.map(MountpointCheck.absolute) ?? CacheDirectory.defaultPath(for: mountpoint))
        if !foreground {
            try BackgroundDaemon.start(arguments: daemonArguments(mountpoint: mountpoint, cache: cache), log: cache.log)
            return
        }
        let report = ReadinessReport(descriptor: readyFd)
        do {
            let lock = try cache.lock()
            defer { close(lock) }
            ResourceLimits.raiseOpenFiles()
            let filesystem: MirrorFilesystem
            do {
                filesystem = try MirrorFilesystem(root: cache.files)
            } catch {
                throw CommandError("cannot open \(cache.files): \(error)")
            }
            let session: FUSESession
            do {
                session = try FUSESession(
                    filesystem: filesystem, mountpoint: mountpoint,
                    options: userOptions + ["default_permissions", "fsname=\(MountOptions.source(cache.path))", "subtype=tusfs"],
                    settings: connectionSettings, maxThreads: threads)
            } catch {
                throw CommandError(error.description)
            }
            try? "\(getpid())\n".write(toFile: cache.pidFile, atomically: true, encoding: .utf8)
            report.ready()
            FileHandle.standardOutput.write(Data("mounted\n".utf8))
            session.run()
            unlink(cache.pidFile)
        } catch {
            report.failed("\(error)")
            throw error
        }
    }

    private var connectionSettings: ConnectionSettings {
        var settings = ConnectionSettings()
        settings.passthrough = !noPassthrough
        return settings
    }

    private func daemonArguments(mountpoint: String, cache: CacheDirectory) -> [String] {
        var arguments = ["mount", mountpoint, "--foreground", "--cache", cache.path, "--threads", "\(threads)"]
        for option in options { arguments += ["-o", option] }
        if noPassthrough { arguments.append("--no-passthrough") }
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
