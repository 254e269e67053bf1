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

    /// Counts `record` out of every directory above it (what ``add(_:)`` counted in). A directory whose counts
    /// all come back to zero is forgotten; one left below zero is kept: these are changes made while the
    /// records they change are still being counted (see ``merge(_:)``).
    public mutating func remove(_ record: UploadRecord) {
        for directory in Self.directories(above: record.path) {
            var summary = totals[directory] ?? SubtreeSummary()
            summary.remove(record)
            totals[directory] = summary.isEmpty ? nil : summary
        }
    }

    /// Adds the counts of `other` (totals counted from the journal at start-up) to these (the changes made
    /// since the journal was read).
    public mutating func merge(_ other: DirectoryTotals) {
        for (directory, counted) in other.totals {
            var summary = totals[directory] ?? SubtreeSummary()
            summary.add(counted)
            totals[directory] = summary.isEmpty ? nil : summary
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
