import CLinux
import FUSEAdapter
import Foundation
import Logging
import Synchronization
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the cache within its limits (`CacheLimits`): measures the space the backing tree takes and the free
/// space of its filesystem, evicts files the service holds whole (least recently opened first), reads
/// evicted files back when they are opened, and makes writers of new files wait for room.
///
/// What is in memory is bounded by what is open or moving: open files, files being fetched, files closed
/// after a write in the last seconds. Whether a file is evicted is on the file itself (the
/// `CacheMark` attribute of its backing file), its last use is the backing file's access time.
public final class CacheSpace: @unchecked Sendable {
    /// Counters for metrics and the status surface.
    public struct Counters: Sendable, Equatable {
        /// File data in `CACHE/files` (allocated blocks), as last measured.
        public var cacheBytes: Int64 = 0
        /// Free bytes on the cache's filesystem, as last measured.
        public var freeBytes: Int64 = 0
        public var evictions = 0
        public var evictedBytes: Int64 = 0
        public var fetches = 0
        public var fetchedBytes: Int64 = 0
        public var fetchFailures = 0
        /// Writers that had to wait for room, and those that got ENOSPC after the wait.
        public var waits = 0
        public var refusals = 0
        /// Writers waiting for room now.
        public var waiting = 0
        /// Free bytes the limits keep on the cache's filesystem.
        public var minFreeBytes: Int64 = 0
    }

    /// What `user.tusfs.cached` says of a file.
    public enum Presence: Sendable, Equatable, CustomStringConvertible {
        case cached
        case evicted
        case fetching(received: Int64, size: Int64)

        public var description: String {
            switch self {
            case .cached: "yes"
            case .evicted: "no"
            case let .fetching(received, size): "fetching \(received)/\(size)"
            }
        }
    }

    private struct OpenHandle {
        var inode: UInt64
        var writable: Bool
        /// The file's data when opened (or when the tree was last scanned): what it grew by since counts.
        var bytesAtOpen: Int64
        /// Opened without passthrough (the kernel reads and writes through the daemon).
        var caching = false
        /// The read-back its reads wait for, while it lasts.
        var streaming: Fetch?
    }

    private struct State {
        var openCount: [UInt64: Int] = [:]
        var handles: [UInt64: OpenHandle] = [:]
        var fetching: [UInt64: Fetch] = [:]
        /// Open files the kernel reads through the daemon (no passthrough), by inode: while there are any,
        /// every open of the file must be so too (the kernel refuses to mix the two).
        var cachingOpens: [UInt64: Int] = [:]
        /// The last read-back failure of each file (by backing inode), kept until it is read back.
        var fetchErrors: [UInt64: String] = [:]
        /// Files closed after a write lately: the engine may not have heard of the change yet.
        var recentlyWritten: [UInt64: ContinuousClock.Instant] = [:]
        /// Files this daemon created (backing inodes), cleared when one is evicted: whole without asking
        /// their backing file for the mark. Bounded: emptied when it reaches `knownWholeLimit`.
        var knownWhole: Set<UInt64> = []
        /// The tree's file data when last scanned (less what was evicted, plus what was read back since),
        /// and what files closed since grew by.
        var scannedUsage: Int64 = 0
        var grownSinceScan: Int64 = 0
        var lastScan: ContinuousClock.Instant?
        var counters = Counters()
        /// The size of the cache's filesystem when last measured.
        var totalBytes: Int64 = 0
        var stopped = false
        var wake = false

        mutating func rememberWhole(_ inode: UInt64) {
            if knownWhole.count >= CacheSpace.knownWholeLimit { knownWhole.removeAll(keepingCapacity: true) }
            knownWhole.insert(inode)
        }
    }

    public let limits: CacheLimits
    let root: String
    let rootDescriptor: Int32
    let remote: any RemoteCopies
    /// Where evictions and read-backs note the times to put back after a crash (nil: not noted).
    let intents: CacheIntents?
    let logger: Logger
    private var state = State()
    private let condition = NSCondition()
    private var thread: Thread?
    /// Tells the kernel a file's attributes (blocks, times) changed behind it, or that the pages it holds of
    /// a file are not to be trusted; set once mounted.
    private let attributesChanged = Mutex<AttributesListener?>(nil)
    /// The closures, in a struct: stored in the generic `Mutex` as itself, a closure was found (gdb, after many
    /// evictions with the service away) being called through thousands of nested reabstraction thunks until
    /// the stack overflowed; in a struct it is stored and called as it is.
    private struct AttributesListener: Sendable {
        let call: @Sendable (stat) -> Void
        let dropPages: @Sendable (stat) -> Void
    }
    /// When an eviction round last found nothing to evict (only the cache's thread uses it).
    private var lastFruitlessRound: ContinuousClock.Instant?
    /// How long after a write-close a file is not evicted (the engine hears of the change within milliseconds).
    static let writeSettling: Duration = .seconds(2)
    /// How long `tusfs cache evict` waits for the release of a file still open (its close may have returned
    /// a moment ago) before it answers EBUSY.
    static let releaseGrace: Duration = .seconds(1)
    /// Candidates kept from one scan of the tree.
    static let candidatesPerScan = 1024
    /// Files remembered as created here (see `State.knownWhole`).
    static let knownWholeLimit = 65_536
    /// An open counts as a new use for eviction only when the last recorded one is older than this: the
    /// order of least recent use does not need finer steps, and each record is a write to the backing inode.
    static let useGranularity: Int = 60

    /// Watches the backing tree at `root` (open as `rootDescriptor`, an O_PATH descriptor of it).
    init(
        root: String, rootDescriptor: Int32, limits: CacheLimits, remote: any RemoteCopies, intentsDirectory: String?,
        logger: Logger
    ) {
        self.root = root
        self.intents = intentsDirectory.map(CacheIntents.init(directory:))
        self.rootDescriptor = rootDescriptor
        self.limits = limits
        self.remote = remote
        self.logger = logger
    }

    /// Called once mounted, with what tells the kernel that a file's attributes changed, and what makes it drop
    /// the pages it holds of a file (never called from a request handler).
    func attach(_ invalidate: @escaping @Sendable (stat) -> Void, dropPages: @escaping @Sendable (stat) -> Void) {
        attributesChanged.withLock { $0 = AttributesListener(call: invalidate, dropPages: dropPages) }
    }

    private func announceChange(_ attributes: stat) {
        attributesChanged.withLock { $0 }?.call(attributes)
    }

    /// Starts the thread that measures and evicts.
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "cache-space"
        self.thread = thread
        thread.start()
    }

    func stop() {
        locked { $0.stopped = true }
        condition.broadcast()
    }

    public var counters: Counters { locked { $0.counters } }

    /// The counters with the cache's file data and free space measured now.
    public func figures() -> Counters {
        let now = measure()
        var figures = counters
        figures.minFreeBytes = limits.minFree.bytes(ofTotal: now.total)
        return figures
    }

    private func locked<T>(_ body: (inout State) throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body(&state)
    }

    // MARK: open files

    /// A regular file was opened (or created) as `handle`, a descriptor of its backing file. An evicted file
    /// is read back: opened for reading, it is read as the data arrives (see `waitForData`); opened for
    /// writing, the open waits until it is whole (unless it is truncated). Returns whether the kernel may
    /// read and write the file itself (passthrough): not while any open of it is served by the daemon.
    /// Throws EIO when the read-back cannot start or, for a writer, fails.
    func opened(handle: UInt64, flags: Int32, path: () -> String?, created: Bool, passthrough: Bool = true)
        throws(FilesystemError) -> Bool
    {
        let descriptor = Int32(truncatingIfNeeded: handle)
        var attributes = stat()
        try SystemCall.check(fstat(descriptor, &attributes))
        let inode = UInt64(attributes.st_ino)
        let writable = flags & O_ACCMODE != O_RDONLY
        let knownWhole = locked { state -> Bool in
            state.openCount[inode, default: 0] += 1
            state.handles[handle] = OpenHandle(
                inode: inode, writable: writable || created, bytesAtOpen: Int64(attributes.st_blocks) * 512)
            if created { state.rememberWhole(inode) }
            return created || state.knownWhole.contains(inode)
        }
        if !created, attributes.st_atim.tv_sec + Self.useGranularity <= time(nil) {
            // The last use, for least-recently-used eviction (the kernel's relatime would not record it).
            var times = [timespec(tv_sec: 0, tv_nsec: tusfs_UTIME_NOW), timespec(tv_sec: 0, tv_nsec: tusfs_UTIME_OMIT)]
            _ = futimens(descriptor, &times)
        }
        var streaming: Fetch?
        if !knownWhole, CacheMark.isSet(on: descriptor) {
            do {
                if writable && flags & O_TRUNC != 0 {
                    CacheMark.clear(on: descriptor)
                } else if writable {
                    try readBack(inode: inode, descriptor: descriptor, path: path)
                } else {
                    streaming = try startFetch(inode: inode, descriptor: descriptor, path: path)
                }
            } catch {
                released(handle: handle)
                throw error
            }
        }
        return locked { state in
            let caching = !passthrough || streaming != nil || state.cachingOpens[inode] != nil
            if caching {
                state.cachingOpens[inode, default: 0] += 1
                state.handles[handle]?.caching = true
                state.handles[handle]?.streaming = streaming
            }
            return !caching
        }
    }

    /// An open file's handle is released.
    func released(handle: UInt64) {
        let wrote = locked { state -> Bool in
            guard let open = state.handles.removeValue(forKey: handle) else { return false }
            let left = state.openCount[open.inode, default: 1] - 1
            state.openCount[open.inode] = left > 0 ? left : nil
            if open.caching {
                let caching = state.cachingOpens[open.inode, default: 1] - 1
                state.cachingOpens[open.inode] = caching > 0 ? caching : nil
            }
            guard open.writable else { return false }
            state.recentlyWritten[open.inode] = .now
            var attributes = stat()
            if fstat(Int32(truncatingIfNeeded: handle), &attributes) == 0 {
                state.grownSinceScan += Int64(attributes.st_blocks) * 512 - open.bytesAtOpen
            }
            return mayBeNearLimits(state)
        }
        // The cache's thread looks again at once only when this write may have brought the cache near its
        // limits; otherwise its next round (a tenth of a second) is soon enough, and each file closed does
        // not wake a thread.
        if wrote { wakeUp() }
    }

    /// Whether the cache may be near its limits, from what is known without measuring: writers wait, or the
    /// file data counted and the free space last measured are past the eviction target (`isAboveTarget`).
    private func mayBeNearLimits(_ state: State) -> Bool {
        let estimate = Measure(
            usage: state.scannedUsage + state.grownSinceScan, free: state.counters.freeBytes, total: state.totalBytes)
        return state.counters.waiting > 0 || isAboveTarget(estimate)
    }

    /// The contents of the file open as the O_PATH `descriptor` are about to change without an open handle
    /// (truncate by path): an evicted file is read back first unless it becomes empty.
    func willChange(pathDescriptor descriptor: Int32, backingInode: UInt64? = nil, newSize: off_t, path: () -> String?)
        throws(FilesystemError)
    {
        if let backingInode, locked({ $0.knownWhole.contains(backingInode) }) { return }
        // Most files are not evicted: one attribute lookup, no open.
        guard CacheMark.isSet(onPath: SystemCall.procPath(descriptor)) else { return }
        let writable = Glibc.open(SystemCall.procPath(descriptor), O_RDWR | O_CLOEXEC)
        guard writable >= 0 else { return }  // the truncate itself will say why
        defer { close(writable) }
        guard CacheMark.isSet(on: writable) else { return }
        if newSize == 0 {
            CacheMark.clear(on: writable)
            return
        }
        var attributes = stat()
        try SystemCall.check(fstat(writable, &attributes))
        try readBack(inode: UInt64(attributes.st_ino), descriptor: writable, path: path)
    }

    /// What `user.tusfs.cached` says of the backing file open as the O_PATH `descriptor`.
    func presence(of descriptor: Int32) -> Presence {
        var attributes = stat()
        guard fstatat(descriptor, "", &attributes, tusfs_AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 else { return .cached }
        if let fetch = locked({ $0.fetching[UInt64(attributes.st_ino)] }) {
            return .fetching(received: fetch.withLock { $0.received }, size: fetch.size)
        }
        return CacheMark.isSet(onPath: SystemCall.procPath(descriptor)) ? .evicted : .cached
    }

    /// The last read-back failure of the file open as the O_PATH `descriptor`, if any.
    func readBackError(of descriptor: Int32) -> String? {
        var attributes = stat()
        guard fstatat(descriptor, "", &attributes, tusfs_AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return locked { $0.fetchErrors[UInt64(attributes.st_ino)] }
    }

    // MARK: reading back

    /// One read-back under way: what has arrived, and how it ended. Its fields change under its own lock,
    /// whose condition wakes the file's readers as data arrives (not the cache's lock: the cache's thread and
    /// its waiting writers are not woken for every part of the body).
    final class Fetch: @unchecked Sendable {
        struct Progress {
            var received: Int64 = 0
            var finished = false
            var error: String?
            /// Whether a read was answered yet (for the debug log's timings).
            var answered = false
        }
        let size: Int64
        /// When the file was opened (for the debug log's timings).
        let started = ContinuousClock.now
        private var progress = Progress()
        private let arrival = NSCondition()
        /// Readers waiting on `arrival` (a part of the body that arrives while none waits wakes nobody).
        private var waiters = 0

        init(size: Int64) { self.size = size }

        func withLock<T>(_ body: (inout Progress) throws -> T) rethrows -> T {
            arrival.lock()
            defer { arrival.unlock() }
            return try body(&progress)
        }

        /// Changes the progress and wakes the readers waiting for it.
        func update(_ body: (inout Progress) -> Void) {
            arrival.lock()
            body(&progress)
            if waiters > 0 { arrival.broadcast() }
            arrival.unlock()
        }

        /// Waits until `ready` holds of the progress; returns the progress then.
        func wait(until ready: (Progress) -> Bool) -> Progress {
            arrival.lock()
            defer { arrival.unlock() }
            while !ready(progress) {
                waiters += 1
                arrival.wait()
                waiters -= 1
            }
            return progress
        }

        /// Milliseconds since the open that started the read-back, for the debug log.
        var elapsed: String {
            let time = ContinuousClock.now - started
            return String(format: "%.2f ms", Double(time.components.seconds) * 1e3 + Double(time.components.attoseconds) / 1e15)
        }
    }

    /// Reads the evicted file `inode`, open as `descriptor`, back from the service and waits until it is
    /// whole; joins a read-back already under way.
    private func readBack(inode: UInt64, descriptor: Int32, path: () -> String?) throws(FilesystemError) {
        guard let fetch = try startFetch(inode: inode, descriptor: descriptor, path: path) else { return }
        if fetch.wait(until: \.finished).error != nil { throw FilesystemError(EIO) }
    }

    /// Starts reading the evicted file `inode` (open as `descriptor`) back on a thread of its own, or joins
    /// the read-back under way; nil when the file is no longer evicted.
    private func startFetch(inode: UInt64, descriptor: Int32, path: () -> String?) throws(FilesystemError) -> Fetch? {
        var attributes = stat()
        try SystemCall.check(fstat(descriptor, &attributes))
        let size = Int64(attributes.st_size)
        condition.lock()
        if let running = state.fetching[inode] {
            condition.unlock()
            return running
        }
        guard CacheMark.isSet(on: descriptor) else {  // read back meanwhile
            condition.unlock()
            return nil
        }
        let fetch = Fetch(size: size)
        state.fetching[inode] = fetch
        condition.unlock()
        func give(up message: String) -> FilesystemError {
            fail(inode, path() ?? "", message)
            finish(fetch, inode: inode, error: message)
            return FilesystemError(EIO)
        }
        guard let path = path() else { throw give(up: "the file has no name left") }
        // The handle may be read-only: write through a descriptor of our own.
        let writable = Glibc.open(SystemCall.procPath(descriptor), O_WRONLY | O_CLOEXEC)
        guard writable >= 0 else {
            throw give(up: "cannot write the cache file to read it back: \(String(cString: strerror(errno)))")
        }
        let before = attributes
        let thread = Thread { [self] in
            defer { close(writable) }
            run(fetch, inode: inode, path: path, descriptor: writable, attributes: before)
        }
        thread.name = "cache-fetch"
        thread.start()
        return fetch
    }

    /// The read-back itself: the request goes out at once; while it is on its way, room is made and the
    /// read-back noted (`CacheIntents`), then the data is written as it comes, checked; the mark goes only
    /// once it is whole.
    private func run(_ fetch: Fetch, inode: UInt64, path: String, descriptor: Int32, attributes: stat) {
        let size = fetch.size
        var noted = false
        var unprepared: String?
        defer { if noted { intents?.end(inode: inode) } }
        logger.debug("read-back: asking the service", metadata: ["path": "\(path)", "since open": "\(fetch.elapsed)"])
        do {
            try remote.fetch(
                path, size: size, into: descriptor,
                beforeWriting: { [self] () throws(ReadBackError) in
                    do {
                        try makeRoom(for: size)
                    } catch {
                        unprepared = "no room in the cache to read the file back"
                        throw ReadBackError(unprepared!)
                    }
                    guard intents?.begin(inode: inode, path: PathBytes.bytes(of: path), attributes: attributes) ?? true else {
                        unprepared = "cannot note the read-back in the cache directory: \(String(cString: strerror(errno)))"
                        throw ReadBackError(unprepared!)
                    }
                    noted = true
                    logger.debug("read-back: room made", metadata: ["since open": "\(fetch.elapsed)"])
                },
                progress: { [self] received in
                    var first = false
                    fetch.update {
                        first = $0.received == 0
                        $0.received = received
                    }
                    if received == 0 {
                        logger.debug("read-back: the service answered", metadata: ["since open": "\(fetch.elapsed)"])
                    } else if first {
                        logger.debug("read-back: first bytes", metadata: ["bytes": "\(received)", "since open": "\(fetch.elapsed)"])
                    }
                })
        } catch {
            if noted {
                // Nothing partial is kept: the space goes back, the file stays evicted.
                _ = Self.dropData(of: descriptor, size: off_t(size))
                restoreTimes(descriptor, attributes)
            }
            let message = unprepared ?? "cannot read the file back from the service: \(error)"
            fail(inode, path, message)
            finish(fetch, inode: inode, error: message)
            // What readers got of a copy that turned out wrong (or of the bytes dropped just now) must not be
            // served again from the kernel's page cache at the next open (opens keep the cache): the kernel
            // drops those pages (once the readers waiting here have their EIO and let go of theirs).
            attributesChanged.withLock { $0 }?.dropPages(attributes)
            return
        }
        restoreTimes(descriptor, attributes)
        // The data is whole before the mark goes: a crash before this line leaves the file evicted.
        _ = fdatasync(descriptor)
        CacheMark.clear(on: descriptor)
        var now = stat()
        _ = fstat(descriptor, &now)
        announceChange(now)
        locked {
            $0.fetchErrors[inode] = nil
            $0.counters.fetches += 1
            $0.counters.fetchedBytes += size
            $0.scannedUsage += Int64(now.st_blocks) * 512 - Int64(attributes.st_blocks) * 512
        }
        logger.debug("read back from the service", metadata: ["path": "\(path)", "bytes": "\(size)"])
        finish(fetch, inode: inode, error: nil)
    }

    private func finish(_ fetch: Fetch, inode: UInt64, error: String?) {
        fetch.update {
            $0.finished = true
            $0.error = error
        }
        locked { state in
            if state.fetching[inode] === fetch { state.fetching[inode] = nil }
        }
        condition.broadcast()
    }

    /// Called before a read through `handle`: a file opened while it was being read back is read as the data
    /// arrives, so this waits until the range asked for is there (EIO when the read-back failed).
    func waitForData(handle: UInt64, offset: off_t, size: Int) throws(FilesystemError) {
        guard let fetch = locked({ $0.handles[handle]?.streaming }) else { return }
        let needed = min(Int64(offset) + Int64(size), fetch.size)
        let progress = fetch.wait { $0.received >= needed || $0.finished }
        if progress.error != nil { throw FilesystemError(EIO) }
        if !progress.answered {
            fetch.withLock { $0.answered = true }
            logger.debug("read-back: first read answered", metadata: [
                "offset": "\(offset)", "size": "\(size)", "received": "\(progress.received)", "since open": "\(fetch.elapsed)",
            ])
        }
        if progress.finished { locked { $0.handles[handle]?.streaming = nil } }
    }

    private func fail(_ inode: UInt64, _ path: String, _ message: String) {
        logger.warning("\(message)", metadata: ["path": "\(path)"])
        locked {
            if $0.fetchErrors.count >= 4096 { $0.fetchErrors.removeAll() }
            $0.fetchErrors[inode] = message
            $0.counters.fetchFailures += 1
        }
    }

    /// Puts back the access and modification times a change of the data (a punched hole, a fetch) moved.
    private func restoreTimes(_ descriptor: Int32, _ attributes: stat) {
        var times = [attributes.st_atim, attributes.st_mtim]
        _ = futimens(descriptor, &times)
    }

    static let punchHole: Int32 = 0x02 | 0x01  // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE

    /// Drops all the data of the file open as `descriptor`, `size` bytes long, keeping its size. The hole
    /// goes past the end to the next block: a hole that ends at the end of the file only zeroes its last,
    /// partial block (ext4 frees it only when the hole reaches beyond), so a file smaller than a block kept
    /// its block. Returns whether the filesystem made the hole.
    static func dropData(of descriptor: Int32, size: off_t) -> Bool {
        let block: off_t = 1 << 16
        return fallocate(descriptor, punchHole, 0, (size / block + 1) * block) == 0
    }

    // MARK: measuring

    /// File data in the tree and free space on its filesystem now: the last scan, plus what files closed
    /// since grew by, plus what the files open for writing grew by (an fstat each), so it can be asked at
    /// every create and counts files still being written.
    struct Measure {
        var usage: Int64
        var free: Int64
        var total: Int64
    }

    func measure() -> Measure {
        var statistics = statvfs()
        guard fstatvfs(rootDescriptor, &statistics) == 0 else { return Measure(usage: 0, free: .max, total: 0) }
        let unit = Int64(statistics.f_frsize)
        let free = Int64(statistics.f_bavail) * unit
        let total = Int64(statistics.f_blocks) * unit
        let usage = locked { state -> Int64 in
            var usage = state.scannedUsage + state.grownSinceScan
            for (handle, open) in state.handles where open.writable {
                var attributes = stat()
                if fstat(Int32(truncatingIfNeeded: handle), &attributes) == 0 {
                    usage += Int64(attributes.st_blocks) * 512 - open.bytesAtOpen
                }
            }
            state.counters.cacheBytes = usage
            state.counters.freeBytes = free
            state.totalBytes = total
            return usage
        }
        return Measure(usage: usage, free: free, total: total)
    }

    /// Over the limits: writers of new files wait.
    func isFull(_ measure: Measure) -> Bool {
        if let maxSize = limits.maxSize, measure.usage > maxSize { return true }
        return measure.free < limits.minFree.bytes(ofTotal: measure.total)
    }

    /// Eviction goes on until this much room is made (a tenth of the limit, 64 MiB at most, below it), so
    /// that it does not run again for every new file.
    func isAboveTarget(_ measure: Measure) -> Bool {
        if let maxSize = limits.maxSize, measure.usage > maxSize - min(maxSize / 10, 64 << 20) { return true }
        let minFree = limits.minFree.bytes(ofTotal: measure.total)
        return minFree > 0 && measure.free < minFree + min(minFree / 10, 64 << 20)
    }

    // MARK: back-pressure

    /// Called before a new file is created or one is opened for writing: while the cache is over its
    /// limits, waits (up to `limits.fullWait`) for uploads and eviction to make room, then throws ENOSPC.
    func waitForRoom() throws(FilesystemError) {
        guard isFull(measure()) else { return }
        try waitUntil { !isFull(measure()) }
    }

    /// Called before a new file is created: waits for room as `waitForRoom()` does, then says whether the
    /// file should be written through the daemon rather than handed to the kernel: near the free-space line,
    /// where `waitForRoom(toWrite:)` must see each write so none fails with ENOSPC. One measure for both.
    func waitForRoomForNewFile() throws(FilesystemError) -> Bool {
        var now = measure()
        if isFull(now) {
            try waitUntil { !isFull(measure()) }
            now = measure()
        }
        return isNearlyFull(now)
    }

    private func isNearlyFull(_ now: Measure) -> Bool {
        let minFree = limits.minFree.bytes(ofTotal: now.total)
        return now.free < 2 * minFree + (64 << 20)
    }

    /// Called before a write through the daemon: a write that would leave less than half the free space
    /// to keep (the file in flight may use the other half) waits for room, then gets ENOSPC.
    func waitForRoom(toWrite count: Int) throws(FilesystemError) {
        func fits() -> Bool {
            var statistics = statvfs()
            guard fstatvfs(rootDescriptor, &statistics) == 0 else { return true }
            let free = Int64(statistics.f_bavail) * Int64(statistics.f_frsize)
            let total = Int64(statistics.f_blocks) * Int64(statistics.f_frsize)
            return free >= Int64(count) + limits.minFree.bytes(ofTotal: total) / 2 + (1 << 20)
        }
        guard !fits() else { return }
        try waitUntil(fits)
    }

    /// Before a read-back of `bytes`: evicts files the service holds (least recently used first) until the
    /// file fits with half the free space to keep left, waiting for room as writers do when none can go.
    func makeRoom(for bytes: Int64) throws(FilesystemError) {
        func fits() -> Bool {
            var statistics = statvfs()
            guard fstatvfs(rootDescriptor, &statistics) == 0 else { return true }
            let free = Int64(statistics.f_bavail) * Int64(statistics.f_frsize)
            let total = Int64(statistics.f_blocks) * Int64(statistics.f_frsize)
            return free >= bytes + limits.minFree.bytes(ofTotal: total) / 2 + (1 << 20)
        }
        if fits() { return }
        for candidate in scan(collecting: true) {
            _ = evict(candidate.path)
            if fits() { return }
        }
        try waitUntil(fits)
    }

    /// Waits until `roomMade` holds, waking the eviction thread, for `limits.fullWait` at most; then ENOSPC.
    private func waitUntil(_ roomMade: () -> Bool) throws(FilesystemError) {
        wakeUp()
        let deadline = Date(timeIntervalSinceNow: limits.fullWait)
        locked {
            $0.counters.waits += 1
            $0.counters.waiting += 1
        }
        defer { locked { $0.counters.waiting -= 1 } }
        logger.info("cache full: a writer waits for room", metadata: ["wait": "\(limits.fullWait)s"])
        while Date() < deadline {
            condition.lock()
            _ = condition.wait(until: min(deadline, Date(timeIntervalSinceNow: 0.05)))
            condition.unlock()
            if roomMade() { return }
            wakeUp()
        }
        locked { $0.counters.refusals += 1 }
        logger.warning("cache full: no room after waiting, ENOSPC", metadata: ["wait": "\(limits.fullWait)s"])
        throw FilesystemError(ENOSPC)
    }

    /// A write failed with ENOSPC: evict at once (the caller tries once more).
    func writeFailedForSpace() {
        evict(force: false)
    }

    /// The value of `user.tusfs.cache`: the measure, the limits, whether writers wait, and the counters.
    func summaryJSON() -> [UInt8] {
        let now = measure()
        let counters = self.counters
        let full = isFull(now)
        var fields: [String] = [
            "\"cache_bytes\":\(now.usage)", "\"max_size\":\(limits.maxSize.map(String.init) ?? "null")",
            "\"free_bytes\":\(now.free)", "\"min_free_bytes\":\(limits.minFree.bytes(ofTotal: now.total))",
            "\"full\":\(full)", "\"writers_waiting\":\(counters.waiting)", "\"full_wait\":\(limits.fullWait)",
            "\"evictions\":\(counters.evictions)", "\"evicted_bytes\":\(counters.evictedBytes)",
            "\"fetches\":\(counters.fetches)", "\"fetched_bytes\":\(counters.fetchedBytes)",
            "\"fetch_failures\":\(counters.fetchFailures)", "\"waits\":\(counters.waits)",
            "\"refusals\":\(counters.refusals)",
        ]
        if full {
            fields.append("\"reason\":\"the cache is full of files not uploaded yet: new files wait for uploads to make room\"")
        }
        return Array(("{" + fields.joined(separator: ",") + "}").utf8)
    }

    // MARK: the thread

    func wakeUp() {
        locked { $0.wake = true }
        condition.broadcast()
    }

    private func run() {
        scan(collecting: false)
        while true {
            condition.lock()
            if !state.wake && !state.stopped { _ = condition.wait(until: Date(timeIntervalSinceNow: 0.1)) }
            state.wake = false
            let stopped = state.stopped
            condition.unlock()
            if stopped { return }
            let due = locked { $0.lastScan.map { ContinuousClock.now - $0 > .seconds(30) } ?? true }
            if due { scan(collecting: false) }
            guard isFull(measure()) || isAboveTarget(measure()) && locked({ $0.counters.waiting > 0 }) else { continue }
            // While nothing can go (the cache full of files not uploaded yet), a walk of the tree every
            // half second at most.
            if let fruitless = lastFruitlessRound, ContinuousClock.now - fruitless < .milliseconds(500) { continue }
            lastFruitlessRound = evict(force: false) == 0 ? .now : nil
        }
    }

    /// Evicts least recently used files the service holds until the cache is back under its target; returns
    /// how many it evicted.
    @discardableResult
    private func evict(force: Bool) -> Int {
        let candidates = scan(collecting: true)
        var freed = 0
        for candidate in candidates {
            guard force || isAboveTarget(measure()) else { break }
            if evict(candidate.path) { freed += 1 }
            if locked({ $0.stopped }) { return freed }
        }
        if freed > 0 {
            logger.info("evicted files the service holds", metadata: ["files": "\(freed)"])
            condition.broadcast()
        }
        return freed
    }

    struct Candidate {
        var path: [UInt8]
        var used: timespec
    }

    /// Walks the tree: sums its file data (the measure's base from now on) and, when `collecting`, returns
    /// the least recently used files that hold data (at most `candidatesPerScan`), oldest first.
    @discardableResult
    private func scan(collecting: Bool) -> [Candidate] {
        var usage: Int64 = 0
        var candidates: [Candidate] = []
        let now = ContinuousClock.now
        let settling = locked { state -> Set<UInt64> in
            state.recentlyWritten = state.recentlyWritten.filter { now - $0.value < Self.writeSettling }
            return Set(state.recentlyWritten.keys)
        }
        CacheTreeWalk.regularFiles(under: rootDescriptor) { path, attributes in
            let bytes = Int64(attributes.st_blocks) * 512
            usage += bytes
            guard collecting, bytes > 0, attributes.st_nlink == 1, !settling.contains(UInt64(attributes.st_ino)) else { return }
            candidates.append(Candidate(path: path, used: attributes.st_atim))
            if candidates.count >= 2 * Self.candidatesPerScan {
                candidates.sort(by: Self.older)
                candidates.removeLast(candidates.count - Self.candidatesPerScan)
            }
        }
        locked { state in
            // Open files were counted as they are now: their growth counts from here.
            state.scannedUsage = usage
            state.grownSinceScan = 0
            for (handle, open) in state.handles where open.writable {
                var attributes = stat()
                if fstat(Int32(truncatingIfNeeded: handle), &attributes) == 0 {
                    state.handles[handle]!.bytesAtOpen = Int64(attributes.st_blocks) * 512
                }
            }
            state.lastScan = now
        }
        return candidates.sorted(by: Self.older)
    }

    private static func older(_ a: Candidate, _ b: Candidate) -> Bool {
        (a.used.tv_sec, a.used.tv_nsec) < (b.used.tv_sec, b.used.tv_nsec)
    }

    /// Drops the data of one file, if nothing has it open, the service holds it whole and it is unchanged:
    /// it keeps its size, mode, owner, times, extended attributes and inode, and is marked evicted first, so
    /// a crash halfway leaves it evicted (read back at the next open), never taken for whole.
    private func evict(_ relative: [UInt8]) -> Bool {
        let descriptor = CacheTreeWalk.open(relative, under: rootDescriptor, flags: O_RDWR)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var attributes = stat()
        guard fstat(descriptor, &attributes) == 0, attributes.st_mode & S_IFMT == S_IFREG, attributes.st_nlink == 1,
            attributes.st_blocks > 0
        else { return false }
        let path = PathBytes.string(from: relative)
        // Asked outside the lock: it may ask the service (a plain tus server, once).
        guard remote.hasCopy(of: path, size: Int64(attributes.st_size), modified: attributes.st_mtim) else { return false }
        condition.lock()
        defer { condition.unlock() }
        let inode = UInt64(attributes.st_ino)
        guard state.openCount[inode] == nil, state.fetching[inode] == nil, state.recentlyWritten[inode] == nil else { return false }
        // Unchanged since the service was asked (a writer would be counted above from now on).
        var now = stat()
        guard fstat(descriptor, &now) == 0, now.st_size == attributes.st_size, now.st_mtim.tv_sec == attributes.st_mtim.tv_sec,
            now.st_mtim.tv_nsec == attributes.st_mtim.tv_nsec, now.st_blocks > 0
        else { return false }
        attributes = now
        guard intents?.begin(inode: inode, path: relative, attributes: attributes) ?? true else { return false }
        defer { intents?.end(inode: inode) }
        state.knownWhole.remove(inode)
        guard CacheMark.set(on: descriptor) else { return false }
        if !Self.dropData(of: descriptor, size: attributes.st_size) {
            // A filesystem without holes: the same, by truncating to zero and back.
            guard ftruncate(descriptor, 0) == 0, ftruncate(descriptor, attributes.st_size) == 0 else { return false }
        }
        restoreTimes(descriptor, attributes)
        var after = stat()
        _ = fstat(descriptor, &after)
        let freed = Int64(attributes.st_blocks - after.st_blocks) * 512
        // Nothing freed: not an eviction (counting it would let the eviction loop take the file again and again).
        guard freed > 0 else { return false }
        state.scannedUsage -= freed
        state.counters.evictions += 1
        state.counters.evictedBytes += Int64(attributes.st_size)
        announceChange(after)
        logger.debug("evicted", metadata: ["path": "\(path)", "bytes": "\(freed)"])
        return true
    }

    // MARK: on demand (tusfs cache evict|fetch)

    /// Evicts the file open as the O_PATH `descriptor` now, whatever its last use (after the moment a file
    /// just written is left for the engine to hear of it). Throws EBUSY when it is open, ENODATA when the
    /// service does not hold it as it is.
    func evictNow(pathDescriptor descriptor: Int32, path: String) throws(FilesystemError) {
        let relative = PathBytes.bytes(of: path)
        var attributes = stat()
        try SystemCall.check(fstatat(descriptor, "", &attributes, tusfs_AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
        guard attributes.st_mode & S_IFMT == S_IFREG else { throw FilesystemError(EISDIR) }
        if attributes.st_blocks == 0 { return }
        let inode = UInt64(attributes.st_ino)
        // A read-back under way (its readers gone) ends first.
        condition.lock()
        while state.fetching[inode] != nil { condition.wait() }
        condition.unlock()
        // close(2) returns before the kernel sends the release: a file closed just now is given a moment.
        let released = ContinuousClock.now + Self.releaseGrace
        while locked({ $0.openCount[inode] != nil }) {
            guard .now < released else { throw FilesystemError(EBUSY) }
            Thread.sleep(forTimeInterval: 0.005)
        }
        if let written = locked({ $0.recentlyWritten[inode] }) {
            let settled = written + Self.writeSettling
            let left = settled - .now
            if left > .zero { Thread.sleep(forTimeInterval: Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18) }
            locked { if $0.recentlyWritten[inode] == written { $0.recentlyWritten[inode] = nil } }
        }
        // ENODATA, not EAGAIN: the kernel turns an EAGAIN answer to setxattr into EOPNOTSUPP.
        guard evict(relative) else { throw FilesystemError(locked({ $0.openCount[inode] != nil }) ? EBUSY : ENODATA) }
    }

    /// Reads the file open as the O_PATH `descriptor` back now if it is evicted.
    func fetchNow(pathDescriptor descriptor: Int32, path: String) throws(FilesystemError) {
        let readable = Glibc.open(SystemCall.procPath(descriptor), O_RDONLY | O_CLOEXEC)
        guard readable >= 0 else { throw FilesystemError.lastSystemCall }
        defer { close(readable) }
        guard CacheMark.isSet(on: readable) else { return }
        var attributes = stat()
        try SystemCall.check(fstat(readable, &attributes))
        try readBack(inode: UInt64(attributes.st_ino), descriptor: readable, path: { path })
    }
}
