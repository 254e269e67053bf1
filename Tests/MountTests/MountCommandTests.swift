import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The `tusfs mount` / `tusfs unmount` commands: mistakes give one line and a non-zero exit; a killed daemon
/// loses no returned write; contents persist across remounts.
@Suite("tusfs mount and unmount", .serialized)
struct MountCommandTests {
    func tusfs(_ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(ProcessRunner.tusfsExecutable, arguments)
    }

    /// A failed command prints exactly one line on stderr, starting with "Error:", and exits non-zero.
    func expectOneLineError(_ result: ProcessResult, mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!result.succeeded, sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("Error:") && result.stderr.contains(text), "stderr: \(result.stderr)",
            sourceLocation: sourceLocation)
    }

    @Test func mistakesAboutTheMountpointGiveOneLine() throws {
        let workspace = try TemporaryDirectory("cli")
        defer { workspace.remove() }
        let cache = workspace.appending("cache")
        expectOneLineError(try tusfs(["mount", workspace.appending("missing"), "--cache", cache]), mentioning: "does not exist")

        let file = workspace.appending("file")
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        expectOneLineError(try tusfs(["mount", file, "--cache", cache]), mentioning: "not a directory")

        let full = workspace.appending("full")
        try FileManager.default.createDirectory(atPath: full + "/inside", withIntermediateDirectories: true)
        expectOneLineError(try tusfs(["mount", full, "--cache", cache]), mentioning: "not empty")

        let empty = workspace.appending("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        expectOneLineError(try tusfs(["mount", empty, "--cache", file + "/cache"]), mentioning: "cache directory")

        expectOneLineError(try tusfs(["unmount", empty]), mentioning: "not mounted")
        expectOneLineError(try tusfs(["mount", empty, "--cache", cache, "-o", "fsname=x"]), mentioning: "fsname")
    }

    @Test func alreadyMountedAndCacheInUseAreRefused() throws {
        try withTusfsMount("twice") { mount in
            expectOneLineError(try tusfs(["mount", mount.mountpoint, "--cache", mount.cache]), mentioning: "already mounted")
            let other = mount.workspace.appending("other")
            try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
            expectOneLineError(try tusfs(["mount", other, "--cache", mount.cache]), mentioning: "in use")
            #expect(!MountTable.isMountPoint(other))
        }
    }

    @Test func cacheDirectoryIsPrivate() throws {
        try withTusfsMount("private") { mount in
            var st = stat()
            #expect(stat(mount.cache, &st) == 0)
            #expect(st.st_mode & 0o777 == 0o700)
            // And the mount is not shared with other users unless asked (no allow_other).
            let info = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
            let line = info.split(separator: "\n").first { $0.contains(" \(mount.mountpoint) ") }
            #expect(line?.contains("allow_other") == false)
            chmod(mount.workspace.path, 0o755)
            let otherUser = try ProcessRunner.run(
                "setpriv", ["--reuid", "4321", "--regid", "4321", "--clear-groups", "ls", mount.mountpoint])
            #expect(!otherUser.succeeded && otherUser.stderr.contains("Permission denied"), "\(otherUser.stderr)")
        }
    }

    @Test func defaultCacheDirectoryIsUnderXdgCacheHome() throws {
        let workspace = try TemporaryDirectory("xdg")
        defer { workspace.remove() }
        let mountpoint = workspace.appending("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let environment = ["XDG_CACHE_HOME": workspace.appending("xdg")]
        let mounted = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["mount", mountpoint], environment: environment)
        #expect(mounted.succeeded, "\(mounted.stderr)")
        defer {
            _ = try? ProcessRunner.run(ProcessRunner.tusfsExecutable, ["unmount", mountpoint])
            _ = try? ProcessRunner.run("umount", ["-l", mountpoint])
        }
        try Data("x".utf8).write(to: URL(fileURLWithPath: mountpoint + "/file"))
        let caches = try FileManager.default.contentsOfDirectory(atPath: workspace.appending("xdg/tusfs"))
        #expect(caches.count == 1)
        #expect(FileManager.default.fileExists(atPath: workspace.appending("xdg/tusfs/\(caches[0])/files/file")))
    }

    @Test func foregroundPrintsMountedAndStopsOnSigterm() throws {
        let workspace = try TemporaryDirectory("fg")
        defer { workspace.remove() }
        let mountpoint = workspace.appending("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessRunner.tusfsExecutable)
        process.arguments = ["mount", mountpoint, "--cache", workspace.appending("cache"), "--foreground"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            _ = try? ProcessRunner.run("umount", ["-l", mountpoint])
        }
        let line = output.fileHandleForReading.availableLine()
        #expect(line == "mounted")
        #expect(MountTable.isMountPoint(mountpoint))
        process.terminate()  // SIGTERM
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(!MountTable.isMountPoint(mountpoint))
    }

    @Test func killedDaemonLosesNoReturnedWriteAndRemountWorks() throws {
        try withTusfsMount("kill") { mount in
            let file = mount.path("survivor.txt")
            let descriptor = open(file, O_CREAT | O_WRONLY, 0o644)
            #expect(descriptor >= 0)
            let text = Array("written before the crash\n".utf8)
            #expect(write(descriptor, text, text.count) == text.count)
            let pid = try #require(mount.daemonPid)
            #expect(kill(pid, SIGKILL) == 0)
            close(descriptor)
            #expect(try String(contentsOfFile: mount.backingPath("survivor.txt"), encoding: .utf8) == "written before the crash\n")
            // unmount clears the dead mount; a new mount of the same cache shows the file.
            try mount.unmount()
            try mount.mount()
            #expect(try String(contentsOfFile: file, encoding: .utf8) == "written before the crash\n")
        }
    }
}

extension FileHandle {
    /// Reads up to the first newline.
    func availableLine() -> String {
        var bytes: [UInt8] = []
        while true {
            let data = readData(ofLength: 1)
            guard let byte = data.first, byte != UInt8(ascii: "\n") else { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
