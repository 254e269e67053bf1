import Foundation

/// The upload totals of the files under one path (a directory's whole subtree, or one file): what
/// `getfattr -n user.tusfs.summary DIR` shows, as JSON. A few hundred bytes however many files there are, so a
/// script (or `tusfs wait`) can poll a directory often without reading the mount's whole `status.json`.
public struct SubtreeSummary: Codable, Sendable, Equatable {
    /// Files with an upload record under the path.
    public var files: Int
    /// Files per state (every state listed, zeros included).
    public var totals: [UploadState: Int]
    /// Failed files with no automatic retry scheduled: they stay failed until `setfattr -n user.tusfs.retry`.
    public var failed_for_good: Int
    /// Bytes of all the files.
    public var bytes: Int64
    /// Bytes the service has: every byte of a file that is finalizing or later, the acknowledged offset before.
    public var bytes_uploaded: Int64
    /// Whether the service answers (absent in summaries of older versions).
    public var service: ServiceStatus?
    /// True while the daemon, just started, is still counting the files it recorded before and checking the
    /// cache for changes made while it was not running: the counts may be short until then. Absent otherwise.
    public var reconciling: Bool?

    /// No files: every count zero.
    public init() {
        files = 0
        totals = Dictionary(uniqueKeysWithValues: UploadState.allCases.map { ($0, 0) })
        failed_for_good = 0
        bytes = 0
        bytes_uploaded = 0
        service = nil
        reconciling = nil
    }

    /// Every count zero.
    public var isEmpty: Bool {
        files == 0 && failed_for_good == 0 && bytes == 0 && bytes_uploaded == 0 && !totals.values.contains { $0 != 0 }
    }

    /// Adds the counts of `other`.
    public mutating func add(_ other: SubtreeSummary) {
        files += other.files
        for (state, count) in other.totals { totals[state, default: 0] += count }
        failed_for_good += other.failed_for_good
        bytes += other.bytes
        bytes_uploaded += other.bytes_uploaded
    }

    /// Counts `record` in.
    public mutating func add(_ record: UploadRecord) {
        files += 1
        totals[record.state, default: 0] += 1
        if record.isFailedForGood { failed_for_good += 1 }
        bytes += record.size
        bytes_uploaded += record.state.bytesUploaded(size: record.size, uploaded: record.uploadedBytes)
    }

    /// Counts `record` out (what ``add(_:)`` counted in).
    public mutating func remove(_ record: UploadRecord) {
        files -= 1
        totals[record.state, default: 0] -= 1
        if record.isFailedForGood { failed_for_good -= 1 }
        bytes -= record.size
        bytes_uploaded -= record.state.bytesUploaded(size: record.size, uploaded: record.uploadedBytes)
    }

    /// Whether the mount-relative `path` is `subtree` itself or lies below it; the root (`""`) holds every path.
    public static func path(_ path: String, isIn subtree: String) -> Bool {
        if subtree.isEmpty || path == subtree { return true }
        let (pathBytes, subtreeBytes) = (path.utf8, subtree.utf8)
        guard pathBytes.count > subtreeBytes.count, pathBytes.starts(with: subtreeBytes) else { return false }
        return pathBytes[pathBytes.index(pathBytes.startIndex, offsetBy: subtreeBytes.count)] == UInt8(ascii: "/")
    }

    /// The summary as one line of JSON with sorted keys.
    public func jsonBytes() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? Array(encoder.encode(self))) ?? Array("{}".utf8)
    }

    /// Decodes what `jsonBytes()` wrote.
    public static func decode(_ bytes: [UInt8]) throws -> SubtreeSummary {
        try JSONDecoder().decode(SubtreeSummary.self, from: Data(bytes))
    }
}
