import CFuse
#if canImport(Glibc)
import Glibc
#endif

/// Why a mount could not be made, in words for the user.
public struct MountError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A FUSE session: mounts a `Filesystem` on a directory and serves kernel requests on its own threads.
///
/// ```swift
/// let session = try FUSESession(filesystem: fs, mountpoint: "/mnt/x", options: ["default_permissions"])
/// session.run()   // blocks until unmount or SIGINT/SIGTERM
/// ```
public final class FUSESession: @unchecked Sendable {
    // @unchecked: the raw session pointer is only touched by run() on one thread and by exit(),
    // which libfuse documents as safe from any thread.
    private let session: OpaquePointer
    private let context: Unmanaged<SessionContext>
    /// The mounted directory.
    public let mountpoint: String
    private let stopSignals: StopSignals
    private let kernelCache: KernelCache
    /// Worker threads serving requests at most.
    public let maxThreads: UInt32

    /// Creates the session and mounts it; call `run()` on the same thread. `options` are `-o` mount options (`allow_other`, `ro`, ...).
    public init(
        filesystem: any Filesystem, mountpoint: String, options: [String], settings: ConnectionSettings = .init(),
        maxThreads: UInt32 = 8
    ) throws(MountError) {
        self.mountpoint = mountpoint
        self.maxThreads = maxThreads
        var argv = ["tusfs"]
        if !options.isEmpty { argv += ["-o", options.joined(separator: ",")] }
        let cStrings = argv.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers: [UnsafeMutablePointer<CChar>?] = cStrings + [nil]
        var args = pointers.withUnsafeMutableBufferPointer { tusfs_args_init(Int32(argv.count), $0.baseAddress) }
        defer { fuse_opt_free_args(&args) }

        let context = Unmanaged.passRetained(SessionContext(filesystem: filesystem, settings: settings))
        var ops = makeLowLevelOperations()
        guard let session = fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size, context.toOpaque())
        else {
            context.release()
            throw MountError("invalid FUSE options: \(options.joined(separator: ","))")
        }
        if fuse_session_mount(session, mountpoint) != 0 {
            fuse_session_destroy(session)
            context.release()
            throw MountError("cannot mount on \(mountpoint) (see the message above)")
        }
        let device = fuse_session_fd(session)
        context.takeUnretainedValue().passthrough.attach(device: device)
        var io = makeCustomIO(spliceReplies: settings.splice, spliceRequests: settings.spliceRequests)
        if fuse_session_custom_io(session, &io, device) != 0 {
            fuse_session_unmount(session)
            fuse_session_destroy(session)
            context.release()
            throw MountError("cannot set up the FUSE session's I/O")
        }
        self.session = session
        self.context = context
        kernelCache = KernelCache(session: session)
        filesystem.attach(kernelCache: kernelCache)
        _ = pointers
        // From here on SIGINT/SIGTERM/SIGHUP end the session cleanly instead of killing the process.
        stopSignals = StopSignals(session: session)
    }

    /// Serves requests until the filesystem is unmounted or SIGINT/SIGTERM/SIGHUP arrives, then unmounts.
    /// Returns 0 on a clean end.
    @discardableResult
    public func run() -> Int32 {
        stopSignals.loopStarts()
        let config = fuse_loop_cfg_create()
        fuse_loop_cfg_set_clone_fd(config, 1)
        fuse_loop_cfg_set_max_threads(config, maxThreads)
        fuse_loop_cfg_set_idle_threads(config, UInt32(max(2, maxThreads / 2)))
        let result = tusfs_session_loop_mt(session, config)
        fuse_loop_cfg_destroy(config)
        kernelCache.detach()
        fuse_session_unmount(session)
        context.takeUnretainedValue().filesystem.shutdown()
        fuse_session_destroy(session)
        context.release()
        return result
    }

    /// Asks the loop to stop (from any thread); `run()` then unmounts and returns.
    public func exit() {
        stopSignals.stop()
    }
}
