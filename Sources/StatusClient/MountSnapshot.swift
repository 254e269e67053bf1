import UploadStatus

/// One mount's `status.json` and the files of it that the named paths cover.
public struct MountSnapshot: Sendable {
    /// The mount root: an absolute path.
    public let root: String
    /// The whole document as the mount served it.
    public let report: UploadStatusReport
    /// The covered files, sorted by path.
    public let files: [UploadStatusReport.File]

    /// The document cut down to the covered files, totals recomputed for them (the throughput stays the
    /// mount's: it is not kept per file).
    public var filteredReport: UploadStatusReport {
        var filtered = report
        filtered.files = files
        filtered.files_total = files.count
        filtered.totals = Dictionary(uniqueKeysWithValues: UploadState.allCases.map { ($0, 0) })
        for file in files { filtered.totals[file.state, default: 0] += 1 }
        filtered.bytes_pending = files.reduce(0) { $0 + $1.bytesPending }
        return filtered
    }

    /// `root/path`.
    public func absolutePath(_ path: String) -> String { root == "/" ? "/" + path : root + "/" + path }
}
