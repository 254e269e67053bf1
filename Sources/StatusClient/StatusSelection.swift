import Foundation
import UploadStatus

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

    /// Reads every mount's `status.json` once.
    public func snapshots() throws -> [MountSnapshot] {
        try roots.map { root in
            let report = try MountStatus.read(root: root)
            let covering = targets.filter { $0.root == root }
            let files = report.files.filter { file in covering.contains { $0.covers(file.path) } }
            return MountSnapshot(root: root, report: report, files: files.sorted { $0.path < $1.path })
        }
    }
}
