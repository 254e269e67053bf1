import Foundation
import UploadEngine
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

/// A path the user named for `tusfs status` or `tusfs wait`, placed in the tusfs mount that holds it.
///
/// The mount root is the nearest directory D, walking up from the path, where `D/.tusfs/status.json` can be
/// read: the mount serves that file (unlisted), so no socket or mount table is needed, and a plain directory
/// holding such a file behaves the same.
struct StatusTarget: Sendable {
    enum Kind: Sendable { case file, directory }

    /// The path as the user typed it.
    let argument: String
    /// The mount root: an absolute path.
    let root: String
    /// The path relative to the root (`videos/a.mp4`); empty for the root itself.
    let relative: String
    let kind: Kind

    /// `root/relative`: the path itself, absolute.
    var absolutePath: String {
        relative.isEmpty ? root : (root == "/" ? "/" : root + "/") + relative
    }

    /// A file covers its own record, a directory every record below it, the root every record.
    func covers(_ path: String) -> Bool {
        if relative.isEmpty { return true }
        switch kind {
        case .file: return path == relative
        case .directory: return path.hasPrefix(relative + "/")
        }
    }

    init(argument: String, root: String, relative: String, kind: Kind) {
        self.argument = argument
        self.root = root
        self.relative = relative
        self.kind = kind
    }

    /// Finds the mount holding `argument`. Only the parent directory is resolved (`realpath`); the last
    /// component is taken as it is, so a symlink in the mount is not followed elsewhere.
    init(_ argument: String) throws {
        self.argument = argument
        var absolute = MountpointCheck.absolute(argument)
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
        default: throw CommandError("\(argument) is not a regular file or a directory (only regular files are uploaded)")
        }
        var directory = kind == .directory ? path : (path as NSString).deletingLastPathComponent
        while access(MountStatus.documentPath(root: directory), R_OK) != 0 {
            guard directory != "/" else { throw CommandError("\(argument) is not inside a tusfs mount") }
            directory = (directory as NSString).deletingLastPathComponent
        }
        root = directory
        relative = path == directory ? "" : String(path.dropFirst(directory == "/" ? 1 : directory.count + 1))
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

/// One mount's `status.json` and the files of it that the named paths cover.
struct MountSnapshot: Sendable {
    let root: String
    /// The whole document as the mount served it.
    let report: UploadStatusReport
    /// The covered files, sorted by path.
    let files: [UploadStatusReport.File]

    /// The document cut down to the covered files, totals recomputed for them (the throughput stays the
    /// mount's: it is not kept per file).
    var filteredReport: UploadStatusReport {
        var filtered = report
        filtered.files = files
        filtered.files_total = files.count
        filtered.totals = Dictionary(uniqueKeysWithValues: UploadState.allCases.map { ($0, 0) })
        for file in files { filtered.totals[file.state, default: 0] += 1 }
        filtered.bytes_pending = files.reduce(0) { $0 + $1.bytesPending }
        return filtered
    }

    /// `root/path`.
    func absolutePath(_ path: String) -> String { root == "/" ? "/" + path : root + "/" + path }
}

/// The paths named on the command line (default: the current directory), grouped by mount.
struct StatusSelection: Sendable {
    let targets: [StatusTarget]
    /// The mount roots, in the order the paths named them.
    let roots: [String]

    init(paths: [String]) throws {
        let named = paths.isEmpty ? [FileManager.default.currentDirectoryPath] : paths
        self.init(targets: try named.map(StatusTarget.init))
    }

    init(targets: [StatusTarget]) {
        self.targets = targets
        var seen = Set<String>()
        roots = targets.map(\.root).filter { seen.insert($0).inserted }
    }

    /// Reads every mount's `status.json` once.
    func snapshots() throws -> [MountSnapshot] {
        try roots.map { root in
            let report = try MountStatus.read(root: root)
            let covering = targets.filter { $0.root == root }
            let files = report.files.filter { file in covering.contains { $0.covers(file.path) } }
            return MountSnapshot(root: root, report: report, files: files.sorted { $0.path < $1.path })
        }
    }
}

/// Reading `MOUNT/.tusfs/status.json`.
enum MountStatus {
    /// The path to show for `absolute`: relative to `currentDirectory` when below it, absolute otherwise.
    static func displayPath(_ absolute: String, from currentDirectory: String) -> String {
        let prefix = currentDirectory == "/" ? "/" : currentDirectory + "/"
        return absolute.hasPrefix(prefix) ? String(absolute.dropFirst(prefix.count)) : absolute
    }

    static func documentPath(root: String) -> String { (root == "/" ? "" : root) + "/.tusfs/status.json" }

    /// The decoded document, or a one-line error. Read to the end with plain `read` calls: the mount serves
    /// it with direct I/O, so its size is only known once it has been read.
    static func read(root: String) throws -> UploadStatusReport {
        let path = documentPath(root: root)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CommandError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw CommandError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            data.append(contentsOf: buffer[..<count])
        }
        do {
            return try UploadStatusReport.decode(data)
        } catch {
            throw CommandError("\(path) is not a tusfs status document")
        }
    }
}
