import Foundation
import UploadStatus

/// What `tusfs status` prints for the named paths: the table, or the mount's `status.json` cut down to them.
public enum StatusOutput {
    /// With `json`, the first mount's document filtered to the selection (one line when `compact`, else
    /// pretty-printed); otherwise the `StatusTable` text.
    public static func render(_ selection: StatusSelection, json: Bool, compact: Bool) throws -> String {
        let snapshots = try selection.snapshots()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = compact ? [.sortedKeys, .withoutEscapingSlashes]
                : [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(snapshots[0].filteredReport), as: UTF8.self) + "\n"
        }
        return StatusTable(snapshots: snapshots, currentDirectory: FileManager.default.currentDirectoryPath, now: Date()).text
    }
}
