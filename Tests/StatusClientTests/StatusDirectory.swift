import Foundation
import TestSupport
import UploadStatus

/// A plain directory that serves `.tusfs/status.json` like a mount's root (the status client looks for no
/// more), with the files the records name.
struct StatusDirectory {
    let directory: TemporaryDirectory
    var root: String { directory.path }

    init(_ records: [UploadRecord], throughput: Double = 0) throws {
        directory = try TemporaryDirectory("status-client")
        try FileManager.default.createDirectory(atPath: directory.appending(".tusfs"), withIntermediateDirectories: true)
        for record in records {
            let path = directory.appending(record.path)
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(count: Int(record.size)).write(to: URL(fileURLWithPath: path))
        }
        let summary = UploadSummary(records: records, throughput: throughput)
        try summary.statusJSON().write(to: URL(fileURLWithPath: directory.appending(".tusfs/status.json")))
    }

    func remove() { directory.remove() }
}
