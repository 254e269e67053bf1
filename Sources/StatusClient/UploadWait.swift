import CLinux
import Foundation
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

/// Polls the mounts until every file under the named paths has settled, or time runs out: the loop behind
/// `tusfs wait` and `tusfs unmount --wait`.
///
/// Each check reads the named paths' `user.tusfs.summary` attribute (the totals of a subtree, a few hundred
/// bytes); the whole `status.json`, with its entry per file in the mount, is read only when those totals say
/// everything has settled (to confirm it and name any failed file), or, while a path has fewer records than
/// files found there at the start, once a second (records lag a file's close by milliseconds; a file removed
/// since the start never gets one, and only the per-file list shows which). On a mount of 6,000 files one read
/// of `status.json` cost the daemon about 10 ms and `wait` tens of milliseconds; with summaries, `wait` took 0.10 s
/// of CPU over a 3.5 s wait for 2,000 of them (every 50 ms) where it took 0.2-0.3 s reading status.json every
/// 0.2 s. So the wait ends sooner after the last file settles and takes little CPU from the uploads it waits for.
///
/// The files waited for are the records under the named paths, plus every regular file found there when
/// the wait starts: the engine applies file events asynchronously, so right after `cp` a file's record can
/// lag by a few milliseconds, and such a file counts as not settled until its record shows up (or the file
/// is removed).
public struct UploadWait {
    /// What counts as done.
    public enum Goal: Sendable {
        /// `tusfs wait`: every file `ready`, or `failed` with no retry scheduled.
        case ready
        /// `tusfs unmount --wait`: nothing left to send, that is no file `pending`, `uploading`, `finalizing`
        /// or `failed` with a retry scheduled (`processing` is the service's business; `local` files are open).
        case uploaded

        /// Whether a file in `state` has settled, `retryScheduled` telling whether a failed one will be tried
        /// again: for `tusfs wait` it is `ready` or failed for good, for `unmount --wait` nothing is left to send.
        public func isSettled(_ state: UploadState, retryScheduled: Bool) -> Bool {
            switch self {
            case .ready: state.isSettled(retryScheduled: retryScheduled)
            case .uploaded: !state.hasWorkLeft(retryScheduled: retryScheduled)
            }
        }

        /// Whether every file in `state` has settled, retries or not: never for `failed`, which settles only
        /// when no retry is scheduled (the state alone does not tell).
        public func settles(_ state: UploadState) -> Bool {
            state != .failed && isSettled(state, retryScheduled: false)
        }

        public func isSettled(_ file: UploadStatusReport.File) -> Bool {
            isSettled(file.state, retryScheduled: file.next_attempt != nil)
        }

        /// How many of the files a summary counts are settled.
        public func settledCount(_ summary: SubtreeSummary) -> Int {
            UploadState.allCases.filter(settles).reduce(summary.failed_for_good) { $0 + (summary.totals[$1] ?? 0) }
        }

        /// The word the progress line and the timeout message use for settled files.
        public var settledWord: String {
            switch self {
            case .ready: "ready"
            case .uploaded: "uploaded"
            }
        }
    }

    /// Where the wait ended.
    public struct Outcome: Sendable {
        /// Files failed for good, as (display path, error).
        public var failed: [(path: String, error: String)] = []
        /// Files not settled when time ran out, as `path (state)`; empty when everything settled.
        public var unsettled: [String] = []
        /// Files waited for.
        public var total = 0
        /// The outage a mount reported at the last check ("service unreachable since T: …"), if any.
        public var outage: String?
        /// Nothing waited for yet.
        public init() {}

        /// Time ran out before every file settled.
        public var timedOut: Bool { !unsettled.isEmpty }

        /// `timed out after 5 s: 2 of 3 files not ready: a.txt (uploading 40%), b.txt (pending)`, at most five named.
        public func timeoutMessage(after seconds: Double, settledWord: String) -> String {
            let shown = unsettled.prefix(5).joined(separator: ", ")
            let more = unsettled.count > 5 ? ", …" : ""
            let reason = outage.map { "; \($0)" } ?? ""
            return "timed out after \(String(format: "%g", seconds)) s: \(unsettled.count) of \(total) files not "
                + "\(settledWord): \(shown)\(more)\(reason)"
        }
    }

    public let selection: StatusSelection
    public let goal: Goal
    /// Seconds; nil waits for ever.
    public let timeout: Double?
    /// Seconds between two checks.
    public let interval: Double
    /// Draw a progress line on stderr (when it is a terminal).
    public let showsProgress: Bool

    /// A wait for the files under `selection` to reach `goal`: checked every `interval` seconds, for at most
    /// `timeout` seconds (nil: for ever), with a progress line on stderr when `showsProgress`.
    public init(selection: StatusSelection, goal: Goal, timeout: Double?, interval: Double, showsProgress: Bool) {
        self.selection = selection
        self.goal = goal
        self.timeout = timeout
        self.interval = interval
        self.showsProgress = showsProgress
    }

    /// Polls until every file has settled or the timeout passed; a one-line error when a mount's status
    /// cannot be read.
    public func run() throws -> Outcome {
        let start = Date()
        let currentDirectory = FileManager.default.currentDirectoryPath
        var expected = expectedFiles()
        var expectedCounts = expectedCountsPerTarget(expected)
        let line = WaitProgressLine(enabled: showsProgress, settledWord: goal.settledWord)
        defer { line.clear() }
        var lastFullRead: Date?
        var outage = OutageNotice(line: line)
        while true {
            let elapsed = Date().timeIntervalSince(start)
            if timeout.map({ elapsed < $0 }) ?? true, let last = lastFullRead, let quick = quickCheck(expectedCounts: expectedCounts),
                !quick.settled, !quick.missesRecords || Date().timeIntervalSince(last) < Self.fullReadInterval
            {
                outage.show(quick.outage)
                line.draw(settled: quick.settledFiles, failed: quick.failed, total: quick.total,
                    bytesDone: Double(quick.bytesDone), bytesTotal: quick.bytesTotal)
                Thread.sleep(forTimeInterval: max(0.001, min(interval, (timeout ?? .infinity) - elapsed)))
                continue
            }
            lastFullRead = Date()
            var outcome = Outcome()
            var bytesDone: Double = 0
            var bytesTotal: Int64 = 0
            var settled = 0
            var outageSeen: ServiceStatus?
            for snapshot in try selection.snapshots() {
                if let service = snapshot.report.service, !service.reachable { outageSeen = service }
                if snapshot.report.reconciling == true {
                    outcome.unsettled.append("\(MountStatus.displayPath(snapshot.root, from: currentDirectory)) (checking its cache after a restart)")
                }
                var recorded = Set<String>()
                for file in snapshot.files {
                    recorded.insert(file.path)
                    outcome.total += 1
                    bytesTotal += file.size
                    bytesDone += file.fraction * Double(file.size)
                    let path = MountStatus.displayPath(snapshot.absolutePath(file.path), from: currentDirectory)
                    if file.failedForGood { outcome.failed.append((path, file.errorLine ?? "upload failed")) }
                    if goal.isSettled(file) {
                        settled += 1
                    } else {
                        outcome.unsettled.append("\(path) (\(Self.describe(file)))")
                    }
                }
                for path in expected[snapshot.root, default: []].subtracting(recorded).sorted() {
                    var attributes = stat()
                    guard lstat(snapshot.absolutePath(path), &attributes) == 0 else {
                        expected[snapshot.root]?.remove(path)
                        continue
                    }
                    outcome.total += 1
                    bytesTotal += Int64(attributes.st_size)
                    outcome.unsettled.append(
                        "\(MountStatus.displayPath(snapshot.absolutePath(path), from: currentDirectory)) (no upload record yet)")
                }
            }
            expectedCounts = expectedCountsPerTarget(expected)  // files gone since the start were dropped above
            outage.show(outageSeen)
            outcome.outage = outageSeen?.outageLine
            line.draw(settled: settled, failed: outcome.failed.count, total: outcome.total, bytesDone: bytesDone, bytesTotal: bytesTotal)
            if outcome.unsettled.isEmpty { return outcome }
            let waited = Date().timeIntervalSince(start)
            if let timeout, waited >= timeout { return outcome }
            Thread.sleep(forTimeInterval: max(0.001, min(interval, (timeout ?? .infinity) - waited)))
        }
    }

    /// Seconds between two full reads of `status.json` while a named path has fewer records than files.
    static let fullReadInterval = 1.0

    /// What the named paths' summaries say, added up.
    struct QuickCheck {
        var settled = true
        /// Some named path has fewer records than files found there at the start.
        var missesRecords = false
        var settledFiles = 0
        var failed = 0
        var total = 0
        var bytesDone: Int64 = 0
        var bytesTotal: Int64 = 0
        /// A named path's mount reports the service unreachable.
        var outage: ServiceStatus?
    }

    /// Says on stderr, once per outage, why nothing moves: a mount reports the service unreachable (the wait
    /// goes on), and again when it answers.
    struct OutageNotice {
        let line: WaitProgressLine
        private var shown: String?

        init(line: WaitProgressLine) { self.line = line }

        mutating func show(_ service: ServiceStatus?) {
            if let service, let text = service.outageLine {
                guard shown != service.unreachable_since else { return }
                shown = service.unreachable_since
                line.clear()
                FileHandle.standardError.write(Data("tusfs: still waiting: \(text)\n".utf8))
            } else if shown != nil {
                shown = nil
                line.clear()
                FileHandle.standardError.write(Data("tusfs: the service answers again; uploads resumed\n".utf8))
            }
        }
    }

    /// Reads `user.tusfs.summary` of every named path; nil when one cannot be read (the path is gone, or the
    /// mount has no such attribute), which sends the caller to `status.json`. A path counts as settled when
    /// all its files with a record are, and it has a record for as many files as were found there at the start.
    func quickCheck(expectedCounts: [Int]) -> QuickCheck? {
        var check = QuickCheck()
        for (index, target) in selection.targets.enumerated() {
            guard let summary = Self.summary(at: target.absolutePath) else { return nil }
            if summary.reconciling == true { check.settled = false }  // counts may be short, changes not found yet
            let settled = goal.settledCount(summary)
            let total = max(summary.files, expectedCounts[index])
            if settled < total { check.settled = false }
            if summary.files < expectedCounts[index] { check.missesRecords = true }
            guard !isCountedByAnotherTarget(index) else { continue }  // progress adds up each file once
            check.settledFiles += settled
            check.failed += summary.failed_for_good
            check.total += total
            check.bytesDone += summary.bytes_uploaded
            check.bytesTotal += summary.bytes
            if let service = summary.service, !service.reachable { check.outage = service }
        }
        return check
    }

    /// Whether the files of named path `index` are counted by another named path: one it lies in, or an earlier
    /// one naming the same path.
    private func isCountedByAnotherTarget(_ index: Int) -> Bool {
        let target = selection.targets[index]
        return selection.targets.indices.contains { other in
            let candidate = selection.targets[other]
            guard other != index, candidate.root == target.root else { return false }
            return candidate.relative == target.relative ? other < index : candidate.covers(target.relative)
        }
    }

    /// The number of files found at the start under each named path, in the order of `selection.targets`.
    private func expectedCountsPerTarget(_ expected: [String: Set<String>]) -> [Int] {
        selection.targets.map { target in expected[target.root, default: []].count(where: target.covers) }
    }

    /// The `user.tusfs.summary` attribute of `path` (not following a symlink), decoded.
    static func summary(at path: String) -> SubtreeSummary? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = lgetxattr(path, StatusNames.summaryAttribute, &buffer, buffer.count)
            if count >= 0 { return try? SubtreeSummary.decode(Array(buffer[..<count])) }
            guard errno == ERANGE, buffer.count < 1 << 20 else { return nil }
            buffer = [UInt8](repeating: 0, count: buffer.count * 4)
        }
    }

    /// `uploading 40%`, `failed, retry scheduled`, `pending`.
    static func describe(_ file: UploadStatusReport.File) -> String {
        switch file.state {
        case .uploading: "uploading " + ProgressText.percent(file.fraction).trimmingCharacters(in: .whitespaces)
        case .failed where file.next_attempt != nil: "failed, retry scheduled"
        default: file.state.rawValue
        }
    }

    /// The regular files under the named paths now, mount-relative, per mount root. The control directory
    /// and sidecar names are the mount's own, never uploaded.
    private func expectedFiles() -> [String: Set<String>] {
        var expected: [String: Set<String>] = [:]
        for target in selection.targets {
            switch target.kind {
            case .file:
                expected[target.root, default: []].insert(target.relative)
            case .directory:
                var found = expected[target.root, default: []]
                Self.collectRegularFiles(in: target.absolutePath, as: target.relative, into: &found)
                expected[target.root] = found
            }
        }
        return expected
    }

    /// Adds the regular files below `directory` to `files`, named `prefix/…`, skipping the mount's control
    /// directory and sidecars. Plain `readdir` with the entry types (lstat only when the type is unknown):
    /// `FileManager`'s enumerator with attributes looked up the owner's and group's names of every file, about
    /// a millisecond each, which made `tusfs wait` on a directory of 2,000 files take two seconds to start.
    static func collectRegularFiles(in directory: String, as prefix: String, into files: inout Set<String>) {
        guard let stream = opendir(directory) else { return }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = String(decoding: directoryEntryName(entry), as: UTF8.self)
            if name == "." || name == ".." { continue }
            let path = prefix.isEmpty ? name : prefix + "/" + name
            let full = directory + "/" + name
            var type = Int32(entry.pointee.d_type)
            if type == DT_UNKNOWN {
                var attributes = stat()
                guard lstat(full, &attributes) == 0 else { continue }
                switch attributes.st_mode & S_IFMT {
                case S_IFDIR: type = Int32(DT_DIR)
                case S_IFREG: type = Int32(DT_REG)
                default: continue
                }
            }
            if type == DT_DIR {
                if path != ".tusfs" { collectRegularFiles(in: full, as: path, into: &files) }
            } else if type == DT_REG, !name.hasSuffix(".tusfs.json") {
                files.insert(path)
            }
        }
    }
}
