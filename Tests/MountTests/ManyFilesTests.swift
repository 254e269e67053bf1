import Foundation
import TestSupport
import Testing

/// Each inode the kernel holds keeps a descriptor open in the daemon, and the kernel forgets nothing while
/// memory is plentiful: past `--max-inodes` the mount asks it to forget the least recently used ones. Here
/// with a bound of 300, far below the ~8,000 names the copies below create, so that a mount with the default
/// bound (half the open-file limit) copying hundreds of thousands of files behaves the same.
@Suite("More files than the daemon keeps descriptors for", .serialized)
struct ManyFilesTests {
    static let limit = 300

    /// Descriptors the daemon has open.
    func descriptors(of mount: TusfsMount) throws -> Int {
        let pid = try #require(mount.daemonPid)
        return try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
    }

    @Test func copiesListingsAndRsyncStayWithinTheBoundAndLoseNothing() throws {
        let source = try TemporaryDirectory("many")
        defer { source.remove() }
        for directory in 0..<4 {
            let path = source.appending("d\(directory)")
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for file in 0..<500 {
                try Data("file \(directory)/\(file)\n".utf8).write(to: URL(fileURLWithPath: "\(path)/f\(file).txt"))
            }
        }
        try withTusfsMount("many", extraArguments: ["--write-back", "3600", "--max-inodes", "\(Self.limit)"]) { mount in
            let idle = try descriptors(of: mount)
            // Headroom over the bound: the rounds run a little behind a burst of lookups.
            let ceiling = idle + Self.limit + 600

            for copy in ["cp1", "cp2"] {
                let result = try ProcessRunner.run("cp", ["-a", source.path, mount.path(copy)])
                #expect(result.succeeded, "\(result.stderr)")
                #expect(try descriptors(of: mount) < ceiling, "after cp -a into \(copy)")
            }
            let rsync = try ProcessRunner.run("rsync", ["-a", source.path + "/", mount.path("rsync") + "/"])
            #expect(rsync.succeeded, "\(rsync.stderr)")
            #expect(try descriptors(of: mount) < ceiling, "after rsync -a")

            let find = try ProcessRunner.run("find", [mount.mountpoint, "-type", "f"])
            #expect(find.stdout.split(separator: "\n").count == 6_000)
            let deadline = Date().addingTimeInterval(10)
            while try descriptors(of: mount) >= idle + Self.limit + 50 && Date() < deadline { usleep(50_000) }
            #expect(try descriptors(of: mount) < idle + Self.limit + 50, "the daemon is back within the bound after find")

            // Every file is still there, identical, reachable by name after its inode was forgotten.
            for copy in ["cp1", "cp2", "rsync"] {  // (cp -a to a new name copies the directory as that name)
                try expectSameTree(source.path, mount.path(copy))
            }
            let again = try ProcessRunner.run("rsync", ["-ai", source.path + "/", mount.path("rsync") + "/"])
            #expect(again.succeeded, "\(again.stderr)")
            #expect(again.stdout == "", "a second rsync found changes:\n\(again.stdout.prefix(2_000))")
        }
    }
}
