import CLinux
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What programs do to single files on the mount: append, truncate, sparse writes, renames, removal,
/// concurrent writers, extended attributes, df, and the errno POSIX prescribes.
@Suite("File operations on the mount", .serialized)
struct FileOperationTests {
    @discardableResult
    func shell(_ command: String) throws -> ProcessResult {
        let result = try ProcessRunner.shell(command)
        #expect(result.succeeded, "\(command): \(result.stderr)")
        return result
    }

    func contents(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test func appendTruncateAndSparseWrites() throws {
        try withTusfsMount("ops") { mount in
            let file = mount.path("log.txt")
            try shell("printf 'one\\n' > '\(file)'; printf 'two\\n' >> '\(file)'; echo three >> '\(file)'")
            #expect(try contents(file) == "one\ntwo\nthree\n")

            try shell("truncate -s 4 '\(file)'")
            #expect(try contents(file) == "one\n")
            try shell("truncate -s 10000 '\(file)'")
            let grown = try Data(contentsOf: URL(fileURLWithPath: file))
            let grownAsExpected = grown.count == 10000 && grown.prefix(4) == Data("one\n".utf8) && grown.dropFirst(4).allSatisfy { $0 == 0 }
            #expect(grownAsExpected)

            let sparse = mount.path("sparse.img")
            try shell("dd if=/dev/urandom of='\(sparse)' bs=4096 count=1 seek=25600 status=none")
            var st = stat()
            #expect(stat(sparse, &st) == 0)
            #expect(st.st_size == 25601 * 4096)
            #expect(st.st_blocks * 512 < 1 << 20, "the hole must not be allocated")
            try shell("cmp -n 4096 /dev/zero '\(sparse)'")
            // SEEK_DATA through the mount finds the data past the hole.
            let descriptor = open(sparse, O_RDONLY)
            defer { close(descriptor) }
            #expect(lseek(descriptor, 0, 3) == 25600 * 4096)  // SEEK_DATA
        }
    }

    @Test func renameOverExistingMoveDirectoryAndRemoveTree() throws {
        try withTusfsMount("rename") { mount in
            try shell("cd '\(mount.mountpoint)' && echo old > a && echo new > b && mv b a")
            #expect(try contents(mount.path("a")) == "new\n")
            #expect(!FileManager.default.fileExists(atPath: mount.path("b")))

            try shell("cd '\(mount.mountpoint)' && mkdir -p d1/sub && echo x > d1/sub/f && mkdir d2 && mv d1 d2/")
            #expect(try contents(mount.path("d2/d1/sub/f")) == "x\n")
            #expect(try contents(mount.backingPath("d2/d1/sub/f")) == "x\n")

            try shell("cd '\(mount.mountpoint)' && mkdir -p t/a/b/c && touch t/a/1 t/a/b/2 t/a/b/c/3 && rm -rf t")
            #expect(!FileManager.default.fileExists(atPath: mount.path("t")))
            #expect(!FileManager.default.fileExists(atPath: mount.backingPath("t")))
        }
    }

    @Test func concurrentWritersAllLand() throws {
        try withTusfsMount("concurrent") { mount in
            // Eight writers on separate files and four on disjoint regions of one shared file, all at once.
            var script = "set -e; cd '\(mount.mountpoint)'; dd if=/dev/zero of=shared bs=1M count=4 status=none\n"
            for index in 0..<8 {
                script += "(for n in $(seq 1 200); do echo \"writer \(index) line $n\"; done > w\(index).txt) &\n"
            }
            for index in 0..<4 {
                script += "(yes \(index) | head -c 1048576 | dd of=shared bs=64K seek=\(index * 16) conv=notrunc status=none) &\n"
            }
            script += "wait\n"
            try shell(script)
            for index in 0..<8 {
                let lines = try contents(mount.path("w\(index).txt")).split(separator: "\n")
                #expect(lines.count == 200 && lines.last == "writer \(index) line 200")
            }
            let shared = try Data(contentsOf: URL(fileURLWithPath: mount.path("shared")))
            #expect(shared.count == 4 << 20)
            for index in 0..<4 {
                let region = shared[(index << 20)..<((index + 1) << 20)]
                let expected = Data(String(repeating: "\(index)\n", count: 1 << 19).utf8)
                // A Bool, not `region == expected` inside #expect: on failure Swift Testing would diff two MiB.
                let same = region == expected
                #expect(same, "region \(index) of the shared file")
            }
        }
    }

    @Test func userExtendedAttributesWithSetfattrAndGetfattr() throws {
        try withTusfsMount("xattr") { mount in
            let file = mount.path("tagged.txt")
            try shell("echo data > '\(file)' && setfattr -n user.color -v blue '\(file)' && setfattr -n user.size -v XL '\(file)'")
            let color = try shell("getfattr --only-values -n user.color '\(file)'")
            #expect(color.stdout == "blue")
            let all = try shell("getfattr -d '\(file)'")
            #expect(all.stdout.contains("user.color=\"blue\"") && all.stdout.contains("user.size=\"XL\""))
            // Stored on the backing file.
            let backing = try shell("getfattr --only-values -n user.color '\(mount.backingPath("tagged.txt"))'")
            #expect(backing.stdout == "blue")
            try shell("setfattr -x user.size '\(file)'")
            let missing = try ProcessRunner.run("getfattr", ["-n", "user.size", file])
            #expect(!missing.succeeded && missing.stderr.contains("No such attribute"))
            // Privileged namespaces are not offered through the mount.
            let trusted = try ProcessRunner.run("setfattr", ["-n", "trusted.x", "-v", "1", file])
            #expect(!trusted.succeeded)
        }
    }

    @Test func newFilesBelongToTheCallingUser() throws {
        try #require(geteuid() == 0, "the daemon gives files to their creator only when it runs as root")
        try withTusfsMount("owner", extraArguments: ["-o", "allow_other"]) { mount in
            try shell("chmod 755 '\(mount.workspace.path)' && chmod 1777 '\(mount.mountpoint)'")
            try shell("setpriv --reuid 4321 --regid 4321 --clear-groups sh -c 'echo mine > \(mount.path("theirs.txt")) && mkdir \(mount.path("their-dir"))'")
            for name in ["theirs.txt", "their-dir"] {
                var st = stat()
                #expect(stat(mount.path(name), &st) == 0)
                #expect(st.st_uid == 4321 && st.st_gid == 4321, "\(name) owned by \(st.st_uid):\(st.st_gid)")
                #expect(stat(mount.backingPath(name), &st) == 0 && st.st_uid == 4321)
            }
            // The kernel checks permissions: another user cannot write into a 0644 file of that user.
            let denied = try ProcessRunner.run(
                "setpriv", ["--reuid", "5555", "--regid", "5555", "--clear-groups", "sh", "-c", "echo x >> \(mount.path("theirs.txt"))"])
            #expect(!denied.succeeded && denied.stderr.contains("Permission denied"))
        }
    }

    @Test func rsyncWithXattrsAndCpPreserveAllInAndOut() throws {
        try withTusfsMount("preserve") { mount in
            let outside = try TemporaryDirectory("outside")
            defer { outside.remove() }
            try shell("mkdir -p '\(outside.path)/src' && echo hi > '\(outside.path)/src/f' && setfattr -n user.k -v v '\(outside.path)/src/f'")
            try shell("rsync -aX '\(outside.path)/src/' '\(mount.path("rs"))/'")
            try shell("cp -r --preserve=all '\(outside.path)/src' '\(mount.path("cp"))'")
            for copy in ["rs/f", "cp/f"] {
                #expect(try shell("getfattr --only-values -n user.k '\(mount.path(copy))'").stdout == "v")
            }
            try shell("rsync -aX '\(mount.path("rs"))/' '\(outside.path)/back-rs/'")
            try shell("cp -r --preserve=all '\(mount.path("cp"))' '\(outside.path)/back-cp'")
            #expect(try shell("getfattr --only-values -n user.k '\(outside.path)/back-rs/f'").stdout == "v")
            #expect(try shell("getfattr --only-values -n user.k '\(outside.path)/back-cp/f'").stdout == "v")
        }
    }

    @Test func dfReportsTheCacheDisk() throws {
        try withTusfsMount("df") { mount in
            let df = try shell("df -P '\(mount.mountpoint)' | tail -1")
            let fields = df.stdout.split(separator: " ", omittingEmptySubsequences: true)
            #expect(fields.first?.hasPrefix("tusfs") == true)
            #expect(Int(fields[1]) ?? 0 > 0)
            let backing = try shell("df -P '\(mount.cache)' | tail -1").stdout.split(separator: " ", omittingEmptySubsequences: true)
            #expect(fields[1] == backing[1], "same total size as the cache's disk")
        }
    }

    @Test func errnoWherePosixSaysSo() throws {
        try withTusfsMount("errno") { mount in
            var st = stat()
            #expect(stat(mount.path("missing"), &st) == -1 && errno == ENOENT)
            #expect(open(mount.path("missing/child"), O_RDONLY) == -1 && errno == ENOENT)

            let long = mount.path(String(repeating: "x", count: 256))
            #expect(open(long, O_CREAT | O_WRONLY, 0o644) == -1 && errno == ENAMETOOLONG)
            #expect(mkdir(long, 0o755) == -1 && errno == ENAMETOOLONG)

            #expect(mkdir(mount.path("full"), 0o755) == 0)
            let child = open(mount.path("full/child"), O_CREAT | O_WRONLY, 0o644)
            #expect(child >= 0)
            close(child)
            #expect(rmdir(mount.path("full")) == -1 && errno == ENOTEMPTY)

            #expect(open(mount.path("full/child"), O_CREAT | O_EXCL | O_WRONLY, 0o644) == -1 && errno == EEXIST)
            #expect(mkdir(mount.path("full"), 0o755) == -1 && errno == EEXIST)
            #expect(link(mount.path("full/child"), mount.path("full/child")) == -1 && errno == EEXIST)
            #expect(renameat2(AT_FDCWD, mount.path("full/child"), AT_FDCWD, mount.path("full"), tusfs_RENAME_NOREPLACE) == -1
                && errno == EEXIST)
            #expect(unlink(mount.path("full")) == -1 && (errno == EISDIR || errno == EPERM))
            #expect(mkfifo(mount.path("full"), 0o644) == -1 && errno == EEXIST)
        }
    }

    @Test func namesThatAreNotUTF8KeepTheirBytes() throws {
        try withTusfsMount("bytes") { mount in
            // tar archives from old systems carry Latin-1 names: they must land byte for byte.
            let script = """
                import os, sys
                mnt, backing = sys.argv[1].encode(), sys.argv[2].encode()
                name = b'caf\\xe9 \\xff.txt'
                with open(os.path.join(mnt, name), 'wb') as f: f.write(b'latin-1')
                assert name in os.listdir(mnt), os.listdir(mnt)
                assert name in os.listdir(backing), os.listdir(backing)
                assert open(os.path.join(mnt, name), 'rb').read() == b'latin-1'
                os.rename(os.path.join(mnt, name), os.path.join(mnt, name + b'.moved'))
                assert os.listdir(backing) == [name + b'.moved'], os.listdir(backing)
                """
            let result = try ProcessRunner.run("python3", ["-c", script, mount.mountpoint, mount.backingPath("")])
            #expect(result.succeeded, "\(result.stderr)")
        }
    }

    /// With FUSE passthrough the kernel writes and reads the cache file itself: file data never passes
    /// through the daemon (its write(2)/read(2) byte counters hardly move), which is how writes reach native
    /// speed while a write() that returned is still in the backing file.
    @Test func fileDataBypassesTheDaemon() throws {
        // The service is one nobody answers for: with the embedded one, the upload of the file (which starts
        // at its close) would be read by the daemon's own server and counted with the daemon's reads.
        try withTusfsMount("passthrough", extraArguments: ["--endpoint", "http://127.0.0.1:9"]) { mount in
            let pid = try #require(mount.daemonPid)
            func daemonIO() throws -> (read: Int, written: Int) {
                let text = try String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8)
                func field(_ name: String) -> Int {
                    text.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                        .flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
                }
                return (field("rchar"), field("wchar"))
            }
            let before = try daemonIO()
            try shell("dd if=/dev/urandom of='\(mount.path("data.bin"))' bs=1M count=64 status=none")
            try shell("cat '\(mount.path("data.bin"))' > /dev/null")
            let after = try daemonIO()
            #expect(after.written - before.written < 8 << 20, "daemon wrote \(after.written - before.written) bytes")
            #expect(after.read - before.read < 8 << 20, "daemon read \(after.read - before.read) bytes")
            #expect(try TreeComparison.sameBytes(mount.path("data.bin"), mount.backingPath("data.bin")))
        }
    }

    @Test func renameExchangeSwapsTwoFiles() throws {
        try withTusfsMount("exchange") { mount in
            try shell("cd '\(mount.mountpoint)' && echo A > a && echo B > b")
            #expect(renameat2(AT_FDCWD, mount.path("a"), AT_FDCWD, mount.path("b"), tusfs_RENAME_EXCHANGE) == 0)
            #expect(try contents(mount.path("a")) == "B\n")
            #expect(try contents(mount.path("b")) == "A\n")
        }
    }
}
