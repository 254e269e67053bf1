import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The checks that turn a user's mistake about the mountpoint into a one-line message.
public enum MountpointCheck {
    /// `path` made absolute against the current directory (symlinks left alone).
    public static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The mountpoint as an absolute path with symlinks resolved.
    public static func resolve(_ path: String) throws -> String {
        guard let resolved = realpath(absolute(path), nil) else {
            if errno == ENOENT { throw MountError("mountpoint \(path) does not exist") }
            throw MountError("mountpoint \(path): \(String(cString: strerror(errno)))")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Checks `mountpoint` can be mounted on: an empty directory, not mounted already, with FUSE available.
    public static func verify(_ mountpoint: String) throws {
        var attributes = stat()
        guard stat(mountpoint, &attributes) == 0 else {
            throw MountError("mountpoint \(mountpoint): \(String(cString: strerror(errno)))")
        }
        guard attributes.st_mode & S_IFMT == S_IFDIR else {
            throw MountError("mountpoint \(mountpoint) is not a directory")
        }
        if let existing = MountTable().mount(at: mountpoint) {
            throw MountError("\(mountpoint) is already mounted (\(existing.filesystemType))")
        }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: mountpoint)) ?? []
        guard contents.isEmpty else {
            throw MountError("mountpoint \(mountpoint) is not empty")
        }
        guard access("/dev/fuse", R_OK | W_OK) == 0 else {
            throw MountError("/dev/fuse is missing or not accessible: install fuse3 and load the fuse module")
        }
        if geteuid() != 0 && !ExecutableSearch.exists("fusermount3") {
            throw MountError("fusermount3 not found: install the fuse3 package")
        }
    }
}
