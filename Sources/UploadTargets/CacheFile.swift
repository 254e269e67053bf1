import Foundation
import UploadEngine

/// The file in the cache that an upload reads.
enum CacheFile {
    /// The size of the regular file at `path` now (what will be sent, whatever the journal says).
    /// - Throws: a permanent error when the file vanished, cannot be read, or is not a regular file.
    static func size(of path: String) throws(UploadTargetError) -> Int64 {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw .permanent("\(path): the cache file is gone or unreadable")
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw .permanent("\(path): not a regular file")
        }
        return (attributes[.size] as? NSNumber)?.int64Value ?? 0
    }
}
