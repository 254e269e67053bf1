import CLinux
import Foundation
import Synchronization
import TusCore
#if canImport(Glibc)
import Glibc
#endif

/// Digests of whole files computed while the files grow (a tus upload's data file, a plain PUT's staging file), on
/// one background thread at the lowest CPU priority (`SCHED_IDLE`), so the hashing uses only CPU time the
/// transfers leave free and does not slow them down.
///
/// The receiving side tells how far a file holds bytes that will stay (``advance(_:path:to:length:algorithm:)``,
/// for a tus upload its durable offset); the thread reads them back (from the page cache, in pieces of
/// ``pieceSize``) behind that offset and keeps, per file, the digest state and the offset it covers, in memory.
/// Once the digest covers the whole file it is recorded with the file (``ContentDigestTag``, kept through the
/// rename into the content store). A reader that needs the digest sooner calls
/// ``digest(ofFileAt:algorithm:)``, which takes over the work at normal priority from where the thread got.
/// After a restart nothing is lost: the next advance of an unfinished upload starts again from its first byte.
/// Small files (under ``minimumFileSize``) and files beyond the ``maximumFiles`` tracked at once are left to
/// their readers.
public final class BackgroundDigests: Sendable {
    /// The instance shared by every server in the process (tus uploads and plain PUTs record, processing reads).
    public static let shared = BackgroundDigests()

    /// Bytes hashed in one step (between two looks at the shared state).
    public static let pieceSize = 4 << 20

    /// Files smaller than this are not tracked: reading them at processing costs little.
    public static let minimumFileSize: Int64 = 4 << 20

    /// At most this many files are tracked at once (each holds an open descriptor until it is hashed, and the
    /// thread may be starved for a while); further files are not, and their readers compute the digest.
    public static let maximumFiles = 32

    /// An open file descriptor, closed when the last holder lets go (a job and the thread's current piece).
    private final class Descriptor: Sendable {
        let fd: Int32
        init(fd: Int32) { self.fd = fd }
        deinit { close(fd) }
    }

    private struct Identity: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private struct Job {
        let descriptor: Descriptor
        let identity: Identity
        /// One per algorithm asked for, in the order asked.
        var hashers: [ChecksumHasher]
        /// The digest covers bytes `0 ..< covered`.
        var covered: Int64 = 0
        /// Bytes `0 ..< available` will not change any more.
        var available: Int64
        /// The file's final size, once known.
        var length: Int64?
        /// The thread is hashing a piece of this job.
        var busy = false
    }

    private struct State {
        var jobs: [String: Job] = [:]
        var workerStarted = false
    }

    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)

    public init() {}

    /// Says that the first `available` bytes of the file at `path` will not change any more; `length` is the
    /// file's final size once known. `key` names the file for later calls (a tus upload id, a staging path).
    /// The first call for a key opens the file (from then on a rename does not matter).
    /// With no `algorithms` it does nothing.
    public func advance(_ key: String, path: String, to available: Int64, length: Int64?, algorithms: [ChecksumAlgorithm]) {
        guard !algorithms.isEmpty else { return }
        if let length, length < Self.minimumFileSize { return }
        let startWorker = state.withLock { state -> Bool in
            if var job = state.jobs[key], job.hashers.map(\.algorithm) == algorithms {
                job.available = max(job.available, available)
                job.length = length ?? job.length
                state.jobs[key] = job
            } else {
                guard state.jobs.count < Self.maximumFiles else { return false }
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { return false }
                var info = stat()
                guard fstat(fd, &info) == 0 else {
                    close(fd)
                    return false
                }
                state.jobs[key] = Job(
                    descriptor: Descriptor(fd: fd),
                    identity: Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)),
                    hashers: algorithms.map { $0.makeHasher() }, available: available, length: length)
            }
            defer { state.workerStarted = true }
            return !state.workerStarted
        }
        if startWorker {
            let thread = Thread { [self] in work() }
            thread.name = "tusfs-digests"
            thread.start()
        }
        wakeup.signal()
    }

    /// Forgets the file of `key` (an upload that was terminated or expired).
    public func forget(_ key: String) {
        _ = state.withLock { $0.jobs.removeValue(forKey: key) }
    }

    /// The digests of every byte of the file at `path` for each of `algorithms`, and its size: from its
    /// ``ContentDigestTag``, else by finishing the background work on it at normal priority (reading only what the
    /// thread has not hashed yet). Nil when the file was never advanced here with these algorithms (or this process
    /// restarted since): compute them from the file. Blocking: call it off the concurrency pool.
    public func digests(ofFileAt path: String, algorithms: [ChecksumAlgorithm]) -> (size: Int64, digests: [ChecksumAlgorithm: Data])? {
        if let tagged = ContentDigestTag.read(path: path), algorithms.allSatisfy({ tagged.digests[$0] != nil }) {
            return (tagged.size, tagged.digests.filter { algorithms.contains($0.key) })
        }
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let identity = Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        let taken = state.withLock { state -> Job? in
            guard let (key, job) = state.jobs.first(where: { $0.value.identity == identity }) else { return nil }
            state.jobs[key] = nil  // a piece in flight is dropped when it comes back
            return job
        }
        guard var job = taken, job.hashers.map(\.algorithm) == algorithms else { return nil }
        let size = Int64(info.st_size)
        guard job.covered <= size, Self.hash(job.descriptor.fd, from: job.covered, to: size, into: &job.hashers) else { return nil }
        let digests = job.hashers.digests
        ContentDigestTag.write(digests, descriptor: job.descriptor.fd)
        return (size, digests)
    }

    /// The digest of every byte of the file at `path` for `algorithm`, and its size (see
    /// ``digests(ofFileAt:algorithms:)``).
    public func digest(ofFileAt path: String, algorithm: ChecksumAlgorithm) -> (size: Int64, digest: Data)? {
        digests(ofFileAt: path, algorithms: [algorithm]).flatMap { result in result.digests[algorithm].map { (result.size, $0) } }
    }

    /// Whether there is work for `key` (for tests).
    public func isTracking(_ key: String) -> Bool { state.withLock { $0.jobs[key] != nil } }

    // MARK: the thread

    private func work() {
        // SCHED_IDLE: the thread runs only on a CPU nothing else wants, and yields it at once when another thread
        // wakes up there (a nice-19 thread would still delay the transfer's many short wake-ups).
        var parameters = sched_param()
        _ = sched_setscheduler(0, tusfs_SCHED_IDLE, &parameters)  // on Linux: this thread only
        while true {
            wakeup.wait()
            while let (key, job) = nextPiece() {
                var hashers = job.hashers
                let end = min(job.available, job.covered + Int64(Self.pieceSize))
                let ok = Self.hash(job.descriptor.fd, from: job.covered, to: end, into: &hashers)
                finishPiece(key, of: job, hashers: hashers, end: end, ok: ok)
            }
        }
    }

    private func nextPiece() -> (String, Job)? {
        state.withLock { state in
            guard let (key, job) = state.jobs.first(where: { !$0.value.busy && $0.value.covered < $0.value.available }) else {
                return nil
            }
            state.jobs[key]?.busy = true
            return (key, job)
        }
    }

    private func finishPiece(_ key: String, of job: Job, hashers: [ChecksumHasher], end: Int64, ok: Bool) {
        let done = state.withLock { state -> Job? in
            // Taken over or forgotten meanwhile (or replaced by a new file under the same key): drop the piece.
            guard var current = state.jobs[key], current.descriptor === job.descriptor, current.covered == job.covered else {
                return nil
            }
            guard ok else {
                state.jobs[key] = nil
                return nil
            }
            current.hashers = hashers
            current.covered = end
            current.busy = false
            if let length = current.length, end == length {
                state.jobs[key] = nil
                return current
            }
            state.jobs[key] = current
            return nil
        }
        if let done {
            ContentDigestTag.write(done.hashers.digests, descriptor: done.descriptor.fd)
        }
    }

    /// Feeds bytes `start ..< end` of `fd` into every one of `hashers` in reads of up to 1 MiB (each read once);
    /// false when they cannot all be read.
    private static func hash(_ fd: Int32, from start: Int64, to end: Int64, into hashers: inout [ChecksumHasher]) -> Bool {
        (try? ChecksumHasher.update(&hashers, descriptor: fd, from: start, to: end, blockSize: 1 << 20)) != nil
    }
}
