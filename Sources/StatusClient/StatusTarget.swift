import Foundation
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

/// A path the user named for `tusfs status` or `tusfs wait`, placed in the tusfs mount that holds it.
///
/// The mount root is the nearest directory D, walking up from the path, where `D/.tusfs/status.json` can be
/// read: the mount serves that file (unlisted), so no socket or mount table is needed, and a plain directory
/// holding such a file behaves the same.
public struct StatusTarget: Sendable {
    /// A regular file covers its own record; a directory, the records below it.
    public enum Kind: Sendable { case file, directory }

    /// The path as the user typed it.
    public let argument: String
    /// The mount root: an absolute path.
    public let root: String
    /// The path relative to the root (`videos/a.mp4`); empty for the root itself.
    public let relative: String
    public let kind: Kind

    /// `root/relative`: the path itself, absolute.
    public var absolutePath: String {
        relative.isEmpty ? root : (root == "/" ? "/" : root + "/") + relative
    }

    /// A file covers its own record, a directory every record below it, the root every record.
    public func covers(_ path: String) -> Bool {
        if relative.isEmpty { return true }
        switch kind {
        case .file: return path == relative
        case .directory: return path.hasPrefix(relative + "/")
        }
    }

    /// A target already placed: `relative` below the mount `root`.
    public init(argument: String, root: String, relative: String, kind: Kind) {
        self.argument = argument
        self.root = root
        self.relative = relative
        self.kind = kind
    }

    /// Finds the mount holding `argument`. Only the parent directory is resolved (`realpath`); the last
    /// component is taken as it is, so a symlink in the mount is not followed elsewhere.
    public init(_ argument: String) throws {
        self.argument = argument
        var absolute = argument.hasPrefix("/") ? argument : FileManager.default.currentDirectoryPath + "/" + argument
        while absolute.count > 1 && absolute.hasSuffix("/") { absolute.removeLast() }
        let name = (absolute as NSString).lastPathComponent
        let path: String
        if absolute == "/" || name == "." || name == ".." {
            path = try Self.realPath(absolute, naming: argument)
        } else {
            let parent = try Self.realPath((absolute as NSString).deletingLastPathComponent, naming: argument)
            path = parent == "/" ? "/" + name : parent + "/" + name
        }
        var attributes = stat()
        guard lstat(path, &attributes) == 0 else {
            if errno == ENOENT { throw CommandError("\(argument) does not exist") }
            throw CommandError("\(argument): \(String(cString: strerror(errno)))")
        }
        switch attributes.st_mode & S_IFMT {
        case S_IFREG: kind = .file
        case S_IFDIR: kind = .directory
        default:
            throw CommandError("\(argument) is \(Self.kindName(attributes.st_mode)): kept in the cache only, never uploaded (local-only)")
        }
        var directory = kind == .directory ? path : (path as NSString).deletingLastPathComponent
        while access(MountStatus.documentPath(root: directory), R_OK) != 0 {
            guard directory != "/" else { throw CommandError("\(argument) is not inside a tusfs mount") }
            directory = (directory as NSString).deletingLastPathComponent
        }
        root = directory
        relative = path == directory ? "" : String(path.dropFirst(directory == "/" ? 1 : directory.count + 1))
    }

    /// What a file that is neither regular nor a directory is, in `ls -l`'s words.
    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFLNK: "a symbolic link"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "not a regular file"
        }
    }

    private static func realPath(_ path: String, naming argument: String) throws -> String {
        guard let resolved = realpath(path, nil) else {
            if errno == ENOENT || errno == ENOTDIR { throw CommandError("\(argument) does not exist") }
            throw CommandError("\(argument): \(String(cString: strerror(errno)))")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
