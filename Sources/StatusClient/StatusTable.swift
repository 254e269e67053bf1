import Foundation
import UploadStatus

/// The text of `tusfs status`: one row per file (state, progress bar, bytes, path, error), then a totals line.
///
/// ```
/// STATE      PROGRESS                     UPLOADED/SIZE        PATH       ERROR
/// uploading  [=========>          ]  48%  4.8 MiB/10.0 MiB     a/b.mov
/// failed     [                    ]   0%  0 B/1.0 KiB          c.txt      retry in 12s: connection refused
/// 2 files (1 uploading, 1 failed), 5.2 MiB pending, 1.2 MiB/s
/// ```
///
/// When a file's data is not in the cache (evicted, or being read back), a `CACHED` column says so for
/// every file: `yes`, `no`, `fetching 1.2 MiB/4.0 MiB`.
///
/// During an outage a last line names it: `service unreachable since T: … (uploads resume when it answers)`.
public struct StatusTable {
    static let barWidth = 20
    static let errorWidth = 60

    let snapshots: [MountSnapshot]
    /// Paths below this directory are shown relative to it.
    let currentDirectory: String
    let now: Date

    /// The table of `snapshots`' files; paths below `currentDirectory` relative to it, retry times from `now`.
    public init(snapshots: [MountSnapshot], currentDirectory: String, now: Date) {
        self.snapshots = snapshots
        self.currentDirectory = currentDirectory
        self.now = now
    }

    /// The rows and the totals line, each ending in a newline.
    public var text: String {
        var rows: [[String]] = []
        let showsCache = snapshots.contains { $0.files.contains { $0.cached != nil && $0.cached != "yes" } }
        for snapshot in snapshots {
            for file in snapshot.files {
                var row = [
                    file.state.rawValue, ProgressText.bar(file.fraction, width: Self.barWidth),
                    ProgressText.bytes(file.uploaded) + "/" + ProgressText.bytes(file.size),
                ]
                if showsCache { row.append(Self.cachedText(file.cached)) }
                rows.append(row + [displayPath(snapshot.absolutePath(file.path)), errorText(file)])
            }
        }
        var lines: [String] = []
        if !rows.isEmpty {
            let header = ["STATE", "PROGRESS", "UPLOADED/SIZE"] + (showsCache ? ["CACHED"] : []) + ["PATH", "ERROR"]
            let hasErrors = rows.contains { !$0[header.count - 1].isEmpty }
            let columns = hasErrors ? header.count : header.count - 1
            let widths = (0..<columns).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
            for row in [header] + rows {
                let cells = (0..<columns).map { column in
                    column == columns - 1 ? row[column] : row[column] + String(repeating: " ", count: widths[column] - row[column].count)
                }
                lines.append(cells.joined(separator: "  ").trimmingTrailingSpaces)
            }
        }
        lines.append(totalsLine)
        lines += outageLines
        return lines.joined(separator: "\n") + "\n"
    }

    /// `3 files (1 uploading, 1 ready, 1 failed), 5.2 MiB pending, 1.2 MiB/s`.
    var totalsLine: String {
        let files = snapshots.flatMap(\.files)
        var counts: [UploadState: Int] = [:]
        for file in files { counts[file.state, default: 0] += 1 }
        let perState = UploadState.allCases.compactMap { state in counts[state].map { "\($0) \(state.rawValue)" } }
        var line = files.count == 1 ? "1 file" : "\(files.count) files"
        if !perState.isEmpty { line += " (" + perState.joined(separator: ", ") + ")" }
        let pending = files.reduce(Int64(0)) { $0 + $1.bytesPending }
        let throughput = snapshots.reduce(0) { $0 + $1.report.throughput }
        return line + ", \(ProgressText.bytes(pending)) pending, \(ProgressText.bytes(throughput))/s"
    }

    /// The `CACHED` cell: `yes` (also for files not uploaded yet, which are always in the cache), `no`,
    /// `fetching 1.2 MiB/4.0 MiB`.
    static func cachedText(_ cached: String?) -> String {
        guard let cached, cached != "yes" else { return "yes" }
        let parts = cached.split(separator: " ")
        guard parts.count == 2, parts[0] == "fetching" else { return cached }
        let numbers = parts[1].split(separator: "/").compactMap { Int64($0) }
        guard numbers.count == 2 else { return cached }
        return "fetching " + ProgressText.bytes(numbers[0]) + "/" + ProgressText.bytes(numbers[1])
    }

    /// `service unreachable since T: … (uploads resume when it answers)`, once per mount reporting an outage.
    var outageLines: [String] {
        var seen = Set<String>()
        let outages = snapshots.compactMap { $0.report.service.flatMap { $0.outageLine ?? $0.throttleLine } }
            .filter { seen.insert($0).inserted }
        let reconciling = snapshots.filter { $0.report.reconciling == true }.map {
            "\(displayPath($0.root)): checking the cache for changes made while unmounted (totals may be short)"
        }
        return outages + reconciling
    }

    func displayPath(_ absolute: String) -> String { MountStatus.displayPath(absolute, from: currentDirectory) }

    /// The error of a failed file, or of one that is being retried, cut to `errorWidth` characters; when a
    /// retry is scheduled, when it is due.
    func errorText(_ file: UploadStatusReport.File) -> String {
        guard file.state != .ready, var text = file.errorLine ?? (file.state == .failed ? "failed" : nil) else { return "" }
        if file.state == .failed, let next = file.next_attempt {
            text = Self.retryText(next, now: now) + ": " + text
        }
        return text.count > Self.errorWidth ? String(text.prefix(Self.errorWidth - 1)) + "…" : text
    }

    /// `retry in 12s`, `retry in 5 min`, or `retry at TIME` when it is further away (or not a time).
    static func retryText(_ nextAttempt: String, now: Date) -> String {
        guard let due = try? Date(nextAttempt, strategy: .iso8601) else { return "retry at \(nextAttempt)" }
        let seconds = max(0, Int(due.timeIntervalSince(now).rounded(.up)))
        if seconds < 120 { return "retry in \(seconds)s" }
        if seconds < 2 * 3600 { return "retry in \(seconds / 60) min" }
        return "retry at \(nextAttempt)"
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}
