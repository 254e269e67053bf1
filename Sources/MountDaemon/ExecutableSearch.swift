import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Looks programs up in PATH.
enum ExecutableSearch {
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    static func exists(_ name: String) -> Bool { find(name) != nil }
}
