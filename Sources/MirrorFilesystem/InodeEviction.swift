import Dispatch
import FUSEAdapter
import Logging
import Synchronization

/// Keeps the inodes the kernel makes the mount hold within a limit. Every inode holds an open descriptor of
/// its backing file, and the kernel forgets inodes only under memory pressure: copying tens of thousands of
/// files would otherwise run the daemon out of descriptors ("Too many open files").
///
/// Past `limit`, a thread of its own asks the kernel to invalidate the entries of the least recently looked up
/// inodes (files before directories) until `limit * 3 / 4` would be left; the kernel then sends FORGET for
/// those nobody uses, which closes their descriptors. Inodes in use (open files, current directories) stay;
/// the next lookup of an invalidated name simply finds the file again.
final class InodeEviction: Sendable {
    let limit: Int
    private let table: InodeTable
    private let logger: Logger
    private let queue = DispatchQueue(label: "tusfs.inode-eviction")

    private struct State {
        var kernel: KernelCache?
        var running = false
        var lastRound: ContinuousClock.Instant?
    }
    private let state = Mutex(State())

    /// Rounds at most this often, in milliseconds: the kernel's FORGETs arrive a little after its invalidations.
    private static let pauseMilliseconds = 50

    init(table: InodeTable, limit: Int, logger: Logger) {
        self.table = table
        self.limit = max(limit, 16)
        self.logger = logger
    }

    /// From now on the kernel can be asked to forget.
    func start(_ kernel: KernelCache) {
        state.withLock { $0.kernel = kernel }
    }

    /// No more rounds (at unmount).
    func stop() {
        state.withLock { $0.kernel = nil }
        queue.sync {}  // waits for a round in progress
    }

    /// Called after an inode was added (on a FUSE thread: only schedules the work).
    func inodeAdded(count: Int) {
        guard count > limit else { return }
        let now = ContinuousClock.now
        let due = state.withLock { state -> Bool in
            guard state.kernel != nil, !state.running else { return false }
            if let last = state.lastRound, now - last < .milliseconds(Self.pauseMilliseconds) { return false }
            state.running = true
            state.lastRound = now
            return true
        }
        if due { queue.async { self.round() } }
    }

    /// `fruitless`: rounds in a row after which no fewer inodes were held.
    private func round(fruitless: Int = 0) {
        let held = table.count
        let victims = table.coldest(held - limit * 3 / 4)
        var invalidated = 0
        for victim in victims {
            guard let kernel = state.withLock({ $0.kernel }) else { break }
            if kernel.invalidateEntry(parent: victim.parent, name: victim.name) == 0 { invalidated += 1 }
        }
        logger.debug(
            "asked the kernel to forget inodes",
            metadata: ["held": "\(held)", "limit": "\(limit)", "invalidated": "\(invalidated)", "asked": "\(victims.count)"])
        // A burst of lookups (find, ls -R) may outrun the rounds: look again once the FORGETs are in, and go on
        // while over the limit, unless rounds stop helping (inodes in use cannot be forgotten).
        queue.asyncAfter(deadline: .now() + .milliseconds(Self.pauseMilliseconds)) { [self] in
            let now = table.count
            let stillFruitful = now < held ? 0 : fruitless + 1
            if now > limit, stillFruitful < 3, !victims.isEmpty, state.withLock({ $0.kernel != nil }) {
                round(fruitless: stillFruitful)
            } else {
                state.withLock { $0.running = false }
            }
        }
    }
}
