import Foundation
import UploadEngine
#if canImport(Glibc)
import Glibc
#endif

/// Polls the mounts' `status.json` until every file under the named paths has settled, or time runs out:
/// the loop behind `tusfs wait` and `tusfs unmount --wait`.
///
/// The files waited for are the records under the named paths, plus every regular file found there when
/// the wait starts: the engine applies file events asynchronously, so right after `cp` a file's record can
/// lag by a few milliseconds, and such a file counts as not settled until its record shows up (or the file
/// is removed).
struct UploadWait {
    enum Goal {
        /// `tusfs wait`: every file `ready`, or `failed` with no retry scheduled.
        case ready
        /// `tusfs unmount --wait`: nothing left to send, that is no file `pending`, `uploading`, `finalizing`
        /// or `failed` with a retry scheduled (`processing` is the service's business; `local` files are open).
        case uploaded

        func isSettled(_ file: UploadStatusReport.File) -> Bool {
            switch self {
            case .ready: file.state == .ready || file.failedForGood
            case .uploaded:
                switch file.state {
                case .local, .processing, .ready: true
                case .failed: file.next_attempt == nil
                case .pending, .uploading, .finalizing: false
                }
            }
        }

        /// The word the progress line and the timeout message use for settled files.
        var settledWord: String {
            switch self {
            case .ready: "ready"
            case .uploaded: "uploaded"
            }
        }
    }

    /// Where the wait ended.
    struct Outcome {
        /// Files failed for good, as (display path, error).
        var failed: [(path: String, error: String)] = []
        /// Files not settled when time ran out, as `path (state)`; empty when everything settled.
        var unsettled: [String] = []
        /// Files waited for.
        var total = 0
        var timedOut: Bool { !unsettled.isEmpty }
    }

    let selection: StatusSelection
    let goal: Goal
    /// Seconds; nil waits for ever.
    let timeout: Double?
    /// Seconds between two reads of `status.json`.
    let interval: Double
    /// Draw a progress line on stderr (when it is a terminal).
    let showsProgress: Bool

    func run() throws -> Outcome {
        let start = Date()
        let currentDirectory = FileManager.default.currentDirectoryPath
        var expected = expectedFiles()
        let line = WaitProgressLine(enabled: showsProgress, settledWord: goal.settledWord)
        defer { line.clear() }
        while true {
            var outcome = Outcome()
            var bytesDone: Double = 0
            var bytesTotal: Int64 = 0
            var settled = 0
            for snapshot in try selection.snapshots() {
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
            line.draw(settled: settled, failed: outcome.failed.count, total: outcome.total, bytesDone: bytesDone, bytesTotal: bytesTotal)
            if outcome.unsettled.isEmpty { return outcome }
            let elapsed = Date().timeIntervalSince(start)
            if let timeout, elapsed >= timeout { return outcome }
            Thread.sleep(forTimeInterval: max(0.001, min(interval, (timeout ?? .infinity) - elapsed)))
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
                let directory = target.relative.isEmpty ? target.root : target.root + "/" + target.relative
                var found = expected[target.root, default: []]
                Self.collectRegularFiles(in: directory, as: target.relative, into: &found)
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
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
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

/// `[=====>     ]  48%  3/10 files ready, 1 failed, 4.1 MiB/12.0 MiB` on stderr, redrawn in place.
struct WaitProgressLine {
    let enabled: Bool
    let settledWord: String

    func draw(settled: Int, failed: Int, total: Int, bytesDone: Double, bytesTotal: Int64) {
        guard enabled else { return }
        let fraction = bytesTotal > 0 ? bytesDone / Double(bytesTotal) : (total == settled ? 1 : 0)
        var text = "\r\u{1B}[2K" + ProgressText.bar(fraction, width: 30)
            + "  \(settled - failed)/\(total) files \(settledWord)"
        if failed > 0 { text += ", \(failed) failed" }
        text += ", " + ProgressText.bytes(bytesDone) + "/" + ProgressText.bytes(bytesTotal)
        FileHandle.standardError.write(Data(text.utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
