import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A mount shared with other users (`-o allow_other`, daemon as root): what another user learns through the
/// status surface is no more than the files themselves tell that user.
@Suite("Other users of a shared mount", .serialized)
struct SharedMountTests {
    /// Runs `command` as `nobody` (uid and gid 65534, no supplementary groups).
    static func asNobody(_ command: String) throws -> ProcessResult {
        try ProcessRunner.run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", command])
    }

    @Test func anotherUserSeesTheStatusOfWhatThatUserMayReadOnly() throws {
        try #require(geteuid() == 0, "a second user needs a daemon running as root")
        try withTusfsMount("shared", extraArguments: ["-o", "allow_other", "--write-back", "0.1"]) { mount in
            #expect(chmod(mount.workspace.path, 0o755) == 0 && chmod(mount.mountpoint, 0o755) == 0)
            let files: [(path: String, mode: mode_t)] = [("public.txt", 0o644), ("private.txt", 0o600), ("secret/passwords.txt", 0o600)]
            try FileManager.default.createDirectory(atPath: mount.path("secret"), withIntermediateDirectories: true)
            #expect(chmod(mount.path("secret"), 0o700) == 0)
            for file in files {
                try Data("contents of \(file.path)\n".utf8).write(to: URL(fileURLWithPath: mount.path(file.path)))
                #expect(chmod(mount.path(file.path), file.mode) == 0)
            }
            let wait = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["wait", mount.mountpoint, "--timeout", "120"])
            #expect(wait.status == 0, "tusfs wait: \(wait.stderr)")

            // The owner (root here) sees everything.
            let document = try String(contentsOfFile: mount.path(".tusfs/status.json"), encoding: .utf8)
            #expect(document.contains("secret/passwords.txt") && document.contains("private.txt"))

            // Nobody reaches neither the secret directory nor the private file; the status surface must not
            // tell them either: not the whole mount's list and URLs, not a subtree's totals, not a 0600 file's
            // sidecar or xattrs.
            #expect(try Self.asNobody("ls '\(mount.path("secret"))'").stderr.contains("Permission denied"))
            #expect(try Self.asNobody("cat '\(mount.path("private.txt"))'").stderr.contains("Permission denied"))
            let status = try Self.asNobody("cat '\(mount.path(".tusfs/status.json"))'")
            #expect(!status.succeeded && status.stderr.contains("Permission denied"), "\(status.stdout)")
            #expect(!status.stdout.contains("passwords"))
            let listing = try Self.asNobody("cat '\(mount.path("secret.tusfs.json"))'")
            #expect(!listing.succeeded && listing.stderr.contains("Permission denied"), "a directory's listing: \(listing.stdout)")
            let ownersListing = try String(contentsOfFile: mount.path("secret.tusfs.json"), encoding: .utf8)
            #expect(ownersListing.contains("secret/passwords.txt") && !ownersListing.contains("private.txt"))
            let summary = try Self.asNobody("getfattr --only-values -n user.tusfs.summary '\(mount.mountpoint)'")
            #expect(!summary.succeeded && summary.stderr.contains("Permission denied"), "\(summary.stdout)")
            let sidecar = try Self.asNobody("cat '\(mount.path("private.txt.tusfs.json"))'")
            #expect(!sidecar.succeeded && sidecar.stderr.contains("Permission denied"), "\(sidecar.stdout)")
            let url = try Self.asNobody("getfattr --only-values -n user.tusfs.url '\(mount.path("private.txt"))'")
            #expect(!url.succeeded && !url.stdout.contains("http"), "\(url.stdout)")

            // What nobody may read, nobody may see the status of.
            let publicSidecar = try Self.asNobody("cat '\(mount.path("public.txt.tusfs.json"))'")
            #expect(publicSidecar.succeeded && publicSidecar.stdout.contains("\"state\" : \"ready\""), "\(publicSidecar.stderr)")
            let state = try Self.asNobody("getfattr --only-values -n user.tusfs.state '\(mount.path("public.txt"))'")
            #expect(state.stdout == "ready", "\(state.stderr)")
            // `ls -l` tells the truth: a sidecar is its file's, status.json the owner's.
            var attributes = stat()
            #expect(stat(mount.path("private.txt.tusfs.json"), &attributes) == 0 && attributes.st_mode & 0o777 == 0o400)
            #expect(stat(mount.path(".tusfs/status.json"), &attributes) == 0 && attributes.st_mode & 0o777 == 0o400)
        }
    }
}
