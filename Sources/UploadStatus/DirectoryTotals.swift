/// The totals of every directory's subtree (``SubtreeSummary``), kept up to date as records change: reading a
/// directory's `user.tusfs.summary` costs one lookup, whatever the number of files below it.
///
/// Memory grows with the number of directories that hold files, not with the files. Each change of a record
/// costs one update per directory above it (its depth).
public struct DirectoryTotals: Sendable {
    private var totals: [String: SubtreeSummary] = [:]

    public init() {}

    /// The totals of the directory `path` (`""`: the whole mount); nil when no file with a record is below it.
    public func summary(ofDirectory path: String) -> SubtreeSummary? { totals[path] }

    /// Directories with files below them.
    public var directoryCount: Int { totals.count }

    /// Counts `record` into every directory above it.
    public mutating func add(_ record: UploadRecord) {
        for directory in Self.directories(above: record.path) { totals[directory, default: SubtreeSummary()].add(record) }
    }

    /// Counts `record` out of every directory above it (what ``add(_:)`` counted in).
    public mutating func remove(_ record: UploadRecord) {
        for directory in Self.directories(above: record.path) {
            guard var summary = totals[directory] else { continue }
            summary.remove(record)
            totals[directory] = summary.files > 0 ? summary : nil
        }
    }

    /// `""`, then each directory on the way to `path`: `a/b/c.txt` → `""`, `a`, `a/b`.
    static func directories(above path: String) -> [String] {
        var directories = [""]
        var index = path.startIndex
        while let slash = path[index...].firstIndex(of: "/") {
            directories.append(String(path[..<slash]))
            index = path.index(after: slash)
        }
        return directories
    }
}
