import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `tusfs cache evict|fetch PATH…`: asks the mount to evict files (drop the data of files the service holds)
/// or to read evicted files back, through each file's `user.tusfs.evict` / `user.tusfs.fetch` attribute (no
/// socket). A directory stands for every regular file below it.
public enum CacheRequest: String, Sendable {
    case evict, fetch

    /// The attribute set on each file.
    public var attribute: String { "user.tusfs.\(rawValue)" }

    /// Why a request failed, in the user's words.
    func reason(_ code: Int32) -> String {
        switch (self, code) {
        case (.evict, EBUSY): "open or just written: not evicted"
        case (.evict, ENODATA):
            "the service holds no READY copy of it as it is (not uploaded yet, changed since, or the service cannot give it back): not evicted"
        case (.fetch, EIO): "cannot read it back from the service (see its user.tusfs.error)"
        case (_, EOPNOTSUPP): "not a file in a tusfs mount with a bounded cache"
        default: String(cString: strerror(code))
        }
    }

    /// Applies the request to every file under `paths`; returns one line per file it could not handle.
    public func apply(to paths: [String]) -> [String] {
        var failures: [String] = []
        for path in paths {
            var attributes = stat()
            guard lstat(path, &attributes) == 0 else {
                failures.append("\(path): \(String(cString: strerror(errno)))")
                continue
            }
            let files = attributes.st_mode & S_IFMT == S_IFDIR ? Self.regularFiles(under: path) : [path]
            for file in files where lsetxattr(file, attribute, "1", 1, 0) != 0 {
                failures.append("\(file): \(reason(errno))")
            }
        }
        return failures
    }

    /// The regular files below `directory`, symbolic links not followed.
    private static func regularFiles(under directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            let path = directory + "/" + relative
            var attributes = stat()
            if lstat(path, &attributes) == 0, attributes.st_mode & S_IFMT == S_IFREG { files.append(path) }
        }
        return files
    }
}
