import Foundation
import MediaManagerAPI
import UploadEngine
import UploadStatus

/// Where a mount-relative path such as `videos/2024/a.mp4` goes on the Media Manager: the folder names from
/// the media root down (the target's root folder first, then the path's directories) and the file's name.
/// Every name of the path is its remote name (`RemoteFileName`: a name the service cannot take is mapped to
/// one it can), so uploads, renames and folder look-ups all use the same names.
public struct RemoteLocation: Sendable, Hashable {
    /// Folder names from `media-root` down; empty for a file directly in the media root.
    var folders: [String]
    /// The file's display name (the path's last component).
    var fileName: String

    /// The location of `remotePath` under the folder names `root`.
    /// - Throws: a permanent error for a path with no file name.
    init(_ remotePath: String, under root: [String]) throws(UploadTargetError) {
        let components = Self.remoteNames(in: remotePath)
        guard let name = components.last else { throw .permanent("not a file path: \"\(remotePath)\"") }
        folders = root + components.dropLast()
        fileName = name
    }

    init(folders: [String], fileName: String) {
        self.folders = folders
        self.fileName = fileName
    }

    /// The `filePath` of an upload URL request (`/backup/videos/2024`), or nil for the media root.
    var filePath: String? { folders.isEmpty ? nil : "/" + folders.joined(separator: "/") }

    /// The non-empty, non-`.` components of a slash-separated path.
    static func names(in path: String) -> [String] {
        path.split(separator: "/").map(String.init).filter { $0 != "." }
    }

    /// The remote names of the components of a mount-relative path (`PathBytes` text), in order.
    static func remoteNames(in path: String) -> [String] {
        PathBytes.components(of: path).filter { $0 != [UInt8(ascii: ".")] }.map { RemoteFileName.encode($0) }
    }

    /// The name the file at the mount-relative `path` has on the service (the value of `user.tusfs.remote_name`);
    /// nil for a path with no name.
    public static func remoteFileName(of path: String) -> String? { remoteNames(in: path).last }
}
