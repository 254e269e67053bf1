import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// FIFOs, sockets and device nodes are kept in the cache as what they are, like on a local disk, and never
/// uploaded: a tree holding them copies in with `rsync`, `cp -a` and `tar`, and only its regular files reach
/// the service.
@Suite("Special files in the mount", .serialized)
struct SpecialFileTests {
    /// GNU tar leaves sockets out of an archive ("socket ignored") and extracts a FIFO's hard links as
    /// separate FIFOs, on any disk.
    static func tarLimits(_ copy: String) -> SpecialTree.Limits {
        copy == "tar" ? SpecialTree.Limits(absent: ["run/socket"], specialFileLinks: false) : SpecialTree.Limits()
    }

    @Test func treeWithSpecialFilesCopiesInEquallyAndOnlyRegularFilesAreUploaded() async throws {
        let source = try TemporaryDirectory("special-source")
        defer { source.remove() }
        let tree = source.appending("tree")
        try SpecialTree.create(at: tree)
        let archive = source.appending("tree.tar")
        let pack = try ProcessRunner.run("tar", ["--format=posix", "-cSf", archive, "-C", tree, "."])
        #expect(pack.succeeded, "\(pack.stderr)")

        let bridge = try UploadBridgeFixture("special")
        defer { bridge.cleanup() }
        let copies = [
            "rsync": ["rsync", "-aHS", tree + "/", bridge.mount.path("rsync") + "/"],
            "cp": ["cp", "-a", tree, bridge.mount.path("cp")],
            "tar": ["tar", "-xpSf", archive, "-C", bridge.mount.path("tar")],
        ]
        try FileManager.default.createDirectory(atPath: bridge.mount.path("tar"), withIntermediateDirectories: false)
        for (name, command) in copies.sorted(by: { $0.key < $1.key }) {
            let copy = try ProcessRunner.run(command[0], Array(command.dropFirst()))
            #expect(copy.succeeded, "\(name) exited \(copy.status): \(copy.stderr)")
            #expect(try SpecialTree.differences(tree, bridge.mount.path(name), as: Self.tarLimits(name)) == [], "\(name)")
        }

        let wait = try bridge.wait()
        #expect(wait.status == 0, "tusfs wait: \(wait.status) \(wait.stderr)\n\(bridge.daemonLog.suffix(3000))")
        let regular = try SpecialTree.regularFiles(tree)
        try await expectOnlyRegularFilesUploaded(bridge, tree: tree, regular: regular, under: copies.keys.sorted())

        // Special files have no upload state: the kernel offers no `user.` attributes on them, the status
        // command says they stay local, and the totals count the regular files alone.
        #expect(try bridge.status("cp/fifo") == nil)
        let status = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["status", bridge.mount.path("cp/run/socket")])
        #expect(status.status != 0 && status.stderr.contains("a socket: kept in the cache only"), "\(status.stderr)")
        try expectTotals(bridge, ready: regular.count * copies.count)

        // A remount finds the same tree, uploads nothing more and marks nothing failed.
        try bridge.mount.unmount()
        try bridge.mount.mount()
        for name in copies.keys.sorted() {
            let differences = try SpecialTree.differences(tree, bridge.mount.path(name), as: Self.tarLimits(name))
            #expect(differences == [], "\(name) after a remount")
        }
        let again = try bridge.wait()
        #expect(again.status == 0, "tusfs wait after a remount: \(again.status) \(again.stderr)")
        try expectTotals(bridge, ready: regular.count * copies.count)
        try await expectOnlyRegularFilesUploaded(bridge, tree: tree, regular: regular, under: copies.keys.sorted())
        #expect(!bridge.daemonLog.contains("fifo"), "\(bridge.daemonLog.suffix(3000))")
    }

    @Test func specialFilesTakeAttributeChangesLinksRenamesAndRemoval() throws {
        let mount = try TusfsMount("special-ops")
        defer { mount.cleanup() }
        let fifo = mount.path("pipe")
        #expect(mkfifo(fifo, 0o644) == 0, "mkfifo: errno \(errno)")
        #expect(chmod(fifo, 0o600) == 0, "chmod: errno \(errno)")
        #expect(try SpecialTree.status(fifo).st_mode == S_IFIFO | 0o600)
        #expect(chown(fifo, 65534, 65534) == 0, "chown: errno \(errno)")
        #expect(try SpecialTree.status(fifo).st_uid == 65534)
        var times = [timespec(tv_sec: 1_500_000_000, tv_nsec: 5), timespec(tv_sec: 1_400_000_000, tv_nsec: 7)]
        #expect(utimensat(AT_FDCWD, fifo, &times, 0) == 0, "utimensat: errno \(errno)")
        #expect(try SpecialTree.status(fifo).st_mtim.tv_sec == 1_400_000_000)
        #expect(link(fifo, mount.path("pipe link")) == 0, "link: errno \(errno)")
        #expect(try SpecialTree.status(fifo).st_nlink == 2)
        #expect(rename(fifo, mount.path("renamed pipe")) == 0, "rename: errno \(errno)")
        #expect(try SpecialTree.status(mount.path("renamed pipe")).st_mode & S_IFMT == S_IFIFO)
        #expect(try SpecialTree.status(mount.backingPath("renamed pipe")).st_mode & S_IFMT == S_IFIFO)

        // The FIFO carries bytes from a writer to a reader (the kernel serves it, as on any disk).
        let reader = open(mount.path("renamed pipe"), O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0, "open for reading: errno \(errno)")
        let writer = open(mount.path("pipe link"), O_WRONLY | O_NONBLOCK)
        #expect(writer >= 0, "open for writing: errno \(errno)")
        #expect(write(writer, "through the pipe", 16) == 16)
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(read(reader, &buffer, buffer.count) == 16)
        #expect(String(decoding: buffer.prefix(16), as: UTF8.self) == "through the pipe")
        close(writer)
        close(reader)

        #expect(unlink(mount.path("renamed pipe")) == 0, "unlink: errno \(errno)")
        #expect(unlink(mount.path("pipe link")) == 0, "unlink: errno \(errno)")
        #expect(access(mount.backingPath("pipe link"), F_OK) != 0)

        // New names get the mode asked for after the caller's umask, not narrowed again by the daemon's.
        let made = try ProcessRunner.shell(
            "cd '\(mount.mountpoint)' && umask 0 && mkdir -m 777 open-dir && mkfifo -m 666 open-fifo && touch open-file")
        #expect(made.succeeded, "\(made.stderr)")
        for (name, mode) in [("open-dir", S_IFDIR | 0o777), ("open-fifo", S_IFIFO | 0o666), ("open-file", S_IFREG | 0o666)] {
            #expect(try SpecialTree.status(mount.path(name)).st_mode == mode, "\(name)")
        }
    }

    /// The service holds each regular file of each copy, READY and identical, and nothing else.
    private func expectOnlyRegularFilesUploaded(
        _ bridge: UploadBridgeFixture, tree: String, regular: [String], under copies: [String]
    ) async throws {
        let contents = try await bridge.contents()
        let expected = Set(copies.flatMap { copy in regular.map { copy + "/" + $0 } })
        #expect(Set(contents.files.keys) == expected, "service: \(contents.files.keys.sorted())")
        for path in expected.sorted() {
            guard let file = contents.files[path] else { continue }
            #expect(file.operationStatus == "READY", "\(path): \(file.operationStatus ?? "nil")")
            let local = tree + "/" + path.split(separator: "/", maxSplits: 1)[1]
            #expect(try await ServiceContents.download(file) == Data(contentsOf: URL(fileURLWithPath: local)), "\(path)")
        }
    }

    /// `status.json` counts `ready` regular files and nothing in any other state.
    private func expectTotals(_ bridge: UploadBridgeFixture, ready: Int) throws {
        let document = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: bridge.mount.path(".tusfs/status.json")))) as? [String: Any]
        let totals = try #require(document?["totals"] as? [String: Int])
        #expect(totals["ready"] == ready, "\(totals)")
        #expect(totals.filter { $0.key != "ready" && $0.value != 0 }.isEmpty, "\(totals)")
    }
}

/// A tree with every kind of file a disk holds: regular files (one sparse), a hard link, symbolic links,
/// FIFOs (one hard-linked), a socket and a character device node, with distinct modes.
enum SpecialTree {
    static func create(at root: String) throws {
        let fm = FileManager.default
        for directory in ["docs", "run", "dev"] {
            try fm.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: root + "/docs/readme.txt"))
        try MixedTree.largeFile(root + "/docs/data.bin", size: 300_000)
        // Sparse: 8 MiB with 4 KiB of bytes in the middle and a hole on either side.
        let sparse = open(root + "/sparse.bin", O_WRONLY | O_CREAT | O_TRUNC, 0o640)
        guard sparse >= 0, ftruncate(sparse, 8 << 20) == 0,
            pwrite(sparse, [UInt8](repeating: 0x5A, count: 4096), 4096, 4 << 20) == 4096
        else { throw TestFailure("sparse file: errno \(errno)") }
        close(sparse)
        try check(link(root + "/docs/readme.txt", root + "/readme hard link"), "link")
        try fm.createSymbolicLink(atPath: root + "/link-to-readme", withDestinationPath: "docs/readme.txt")
        try fm.createSymbolicLink(atPath: root + "/run/dangling", withDestinationPath: "no/such/file")
        try check(mkfifo(root + "/fifo", 0o644), "mkfifo")
        try check(mkfifo(root + "/run/fifo", 0o600), "mkfifo")
        try check(link(root + "/run/fifo", root + "/run/fifo link"), "link of a FIFO")
        try bindSocket(root + "/run/socket")
        try check(chmod(root + "/run/socket", 0o770), "chmod of a socket")
        // The null device's numbers (1, 3): a node the daemon, running as root, may create.
        try check(mknod(root + "/dev/null-device", S_IFCHR | 0o640, dev_t((1 << 8) | 3)), "mknod")
    }

    /// A Unix socket's name in the file system: bound, then closed (the name stays, as a socket file).
    static func bindSocket(_ path: String) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try check(bound, "bind \(path)")
    }

    static func check(_ result: Int32, _ what: String) throws {
        if result != 0 { throw TestFailure("\(what): errno \(errno)") }
    }

    static func status(_ path: String) throws -> stat {
        var attributes = stat()
        guard lstat(path, &attributes) == 0 else { throw TestFailure("lstat \(path): errno \(errno)") }
        return attributes
    }

    /// The regular files under `root`, relative paths, sorted.
    static func regularFiles(_ root: String) throws -> [String] {
        try entries(root).filter { try status(root + "/" + $0).st_mode & S_IFMT == S_IFREG }
    }

    static func entries(_ root: String) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { throw TestFailure("cannot list \(root)") }
        return enumerator.compactMap { $0 as? String }.sorted()
    }

    /// What differs between two trees, entry by entry (stat of each, nothing opened but regular files):
    /// names, types, permission bits, link counts, sizes, device numbers, symlink targets, regular files'
    /// bytes; within what `limits` allows a copy to leave out.
    /// What a copy may leave out: names, and the link counts of special files.
    struct Limits {
        var absent: Set<String> = []
        var specialFileLinks = true
    }

    static func differences(_ source: String, _ copy: String, as limits: Limits = Limits()) throws -> [String] {
        let left = try entries(source).filter { !limits.absent.contains($0) }, right = try entries(copy)
        var problems = Set(left).symmetricDifference(right).sorted().map { "only on one side: \($0)" }
        for name in left where right.contains(name) {
            let a = try status(source + "/" + name), b = try status(copy + "/" + name)
            if a.st_mode != b.st_mode { problems.append("\(name): mode \(String(a.st_mode, radix: 8)) vs \(String(b.st_mode, radix: 8))") }
            let special = ![S_IFREG, S_IFDIR, S_IFLNK].contains(a.st_mode & S_IFMT)
            if a.st_nlink != b.st_nlink && (limits.specialFileLinks || !special) {
                problems.append("\(name): \(a.st_nlink) links vs \(b.st_nlink)")
            }
            if a.st_rdev != b.st_rdev { problems.append("\(name): device \(a.st_rdev) vs \(b.st_rdev)") }
            switch a.st_mode & S_IFMT {
            case S_IFREG:
                if a.st_size != b.st_size {
                    problems.append("\(name): size \(a.st_size) vs \(b.st_size)")
                } else if !(try TreeComparison.sameBytes(source + "/" + name, copy + "/" + name)) {
                    problems.append("\(name): contents differ")
                }
            case S_IFLNK:
                let fm = FileManager.default
                let targets = (try fm.destinationOfSymbolicLink(atPath: source + "/" + name), try fm.destinationOfSymbolicLink(atPath: copy + "/" + name))
                if targets.0 != targets.1 { problems.append("\(name): link target \(targets.0) vs \(targets.1)") }
            default: break
            }
        }
        return problems
    }
}
