import CLinux
import Foundation
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

/// The paths named on the command line (default: the current directory), grouped by mount.
public struct StatusSelection: Sendable {
    /// The named paths, in the order named.
    public let targets: [StatusTarget]
    /// The mount roots, in the order the paths named them.
    public let roots: [String]

    /// Places each of `paths` (none: the current directory) in its mount; a one-line error for a path that
    /// is missing, not a file or directory, or in no tusfs mount.
    public init(paths: [String]) throws {
        let named = paths.isEmpty ? [FileManager.default.currentDirectoryPath] : paths
        self.init(targets: try named.map(StatusTarget.init))
    }

    /// Targets already placed.
    public init(targets: [StatusTarget]) {
        self.targets = targets
        var seen = Set<String>()
        roots = targets.map(\.root).filter { seen.insert($0).inserted }
    }

    /// Reads, for every mount, what the named paths cover and nothing else: a named file's sidecar, a named
    /// directory's listing (its sidecar `DIR.tusfs.json`), the root's `status.json`; a path inside another named
    /// path is read with it. So the cost follows the files under the named paths, not the mount's size.
    public func snapshots() throws -> [MountSnapshot] {
        try roots.map { root in
            let covering = targets.filter { $0.root == root }
            var read = Set<String>()
            var listing: UploadStatusReport?
            var files: [String: UploadStatusReport.File] = [:]
            var whole: UploadStatusReport?
            /// `status.json`, read once: where a directory has no listing of its own (a mount of an older
            /// version, or a plain directory holding a status.json).
            func wholeMount() throws -> UploadStatusReport {
                if let whole { return whole }
                let report = try MountStatus.read(root: root)
                whole = report
                return report
            }
            for target in covering where read.insert(target.relative).inserted {
                let inside = covering.contains { $0.relative != target.relative && $0.covers(target.relative) }
                guard !inside else { continue }
                switch target.kind {
                case .file where !target.relative.isEmpty:
                    if let file = try MountStatus.readFileSidecar(of: target.absolutePath) {
                        files[file.path] = file
                    } else if let file = try wholeMount().files.first(where: { $0.path == target.relative }) {
                        files[file.path] = file  // a plain directory holding a status.json
                    }
                default:
                    let report = try target.relative.isEmpty
                        ? wholeMount() : MountStatus.readListing(at: MountStatus.sidecarPath(of: target.absolutePath)) ?? wholeMount()
                    for file in report.files where target.covers(file.path) { files[file.path] = file }
                    if listing == nil { listing = report }
                }
            }
            let report = listing ?? {
                let summary = UploadWait.summary(at: root)  // the root's user.tusfs.summary, read once
                return UploadStatusReport(files: [], throughput: 0, service: summary?.service, reconciling: summary?.reconciling)
            }()
            var sorted = files.values.sorted { $0.path < $1.path }
            // Whether each file READY on the service is still in the cache (only those are ever evicted): one
            // attribute lookup per such file.
            for index in sorted.indices where sorted[index].state == .ready {
                sorted[index].cached = Self.cachePresence(of: root == "/" ? "/" + sorted[index].path : root + "/" + sorted[index].path)
            }
            return MountSnapshot(root: root, report: report, files: sorted)
        }
    }

    /// The `user.tusfs.cached` attribute of `path` (not following a symlink); nil when it has none (a mount
    /// without a bounded cache, a file gone meanwhile).
    static func cachePresence(of path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = lgetxattr(path, StatusNames.cachedAttribute, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}
