import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Mounting from /etc/fstab (through mount(8) and its helper) and under systemd (sd_notify).
@Suite("fstab and systemd", .serialized)
struct ServiceManagementTests {
    /// Arguments of the daemon serving `mountpoint` (from its cache's pid file).
    func daemonArguments(cache: String) -> [String] {
        guard let text = try? String(contentsOfFile: cache + "/daemon.pid", encoding: .utf8),
            let pid = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
        else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    func unmount(_ mountpoint: String) {
        _ = try? ProcessRunner.run(ProcessRunner.tusfsExecutable, ["unmount", mountpoint])
        if MountTable.isMountPoint(mountpoint) { _ = try? ProcessRunner.run("umount", ["-l", mountpoint]) }
    }

    @Test func theHelperCalledAsMountDoesMounts() throws {
        let directory = try TemporaryDirectory("helper")
        defer { directory.remove() }
        let (mountpoint, cache, helper) = (directory.appending("mnt"), directory.appending("cache"), directory.appending("mount.fuse.tusfs"))
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: helper, withDestinationPath: ProcessRunner.tusfsExecutable)
        defer { unmount(mountpoint) }
        let result = try ProcessRunner.run(
            helper, ["tusfs:" + cache, mountpoint, "-o", "rw,noauto,nofail,x-systemd.automount,write_back=0,transfers=3,noatime"])
        #expect(result.succeeded, "\(result.stderr)")
        #expect(MountTable.isMountPoint(mountpoint))
        let arguments = daemonArguments(cache: cache)
        #expect(arguments.contains("--transfers") && arguments[arguments.firstIndex(of: "--transfers")! + 1] == "3", "\(arguments)")
        #expect(arguments.contains("noatime") && !arguments.joined().contains("noauto"), "\(arguments)")
        try Data("via fstab\n".utf8).write(to: URL(fileURLWithPath: mountpoint + "/a.txt"))
        #expect(FileManager.default.contents(atPath: cache + "/files/a.txt") == Data("via fstab\n".utf8))

        let bad = try ProcessRunner.run(helper, [mountpoint])
        #expect(!bad.succeeded && bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
    }

    /// A real fstab entry, mounted by mount(8) (`mount -T FSTAB MOUNTPOINT`), which runs /sbin/mount.fuse.tusfs.
    @Test func anFstabLineMountsThroughMount8() throws {
        let directory = try TemporaryDirectory("fstab")
        defer { directory.remove() }
        let (mountpoint, cache, fstab) = (directory.appending("mnt"), directory.appending("cache"), directory.appending("fstab"))
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        // Put the helper where mount(8) looks, for this test only (an installed one is set aside and restored).
        let helper = "/sbin/mount.fuse.tusfs"
        let backup = helper + ".tusfs-test-backup"
        let hadOne = (try? FileManager.default.destinationOfSymbolicLink(atPath: helper)) != nil || FileManager.default.fileExists(atPath: helper)
        if hadOne { try FileManager.default.moveItem(atPath: helper, toPath: backup) }
        defer {
            try? FileManager.default.removeItem(atPath: helper)
            if hadOne { try? FileManager.default.moveItem(atPath: backup, toPath: helper) }
        }
        try FileManager.default.createSymbolicLink(atPath: helper, withDestinationPath: ProcessRunner.tusfsExecutable)
        try "tusfs:\(cache) \(mountpoint) fuse.tusfs noauto,write_back=0 0 0\n".write(toFile: fstab, atomically: true, encoding: .utf8)
        defer { unmount(mountpoint) }

        let result = try ProcessRunner.run("mount", ["-T", fstab, mountpoint])
        #expect(result.succeeded, "\(result.stderr)")
        #expect(MountTable.isMountPoint(mountpoint))
        let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
        #expect(mounts.contains("tusfs:\(cache) \(mountpoint) fuse.tusfs"), "\(mounts)")
        try Data("x\n".utf8).write(to: URL(fileURLWithPath: mountpoint + "/b.txt"))
        let wait = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["wait", mountpoint, "--timeout", "60"])
        #expect(wait.status == 0, "\(wait.stderr)")
        let unmounted = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["unmount", mountpoint])
        #expect(unmounted.succeeded, "\(unmounted.stderr)")
    }

    /// Under a Type=notify unit: READY=1 once mounted, STOPPING=1 on SIGTERM, then a clean exit.
    @Test func foregroundTellsSystemdWhenReadyAndStopping() throws {
        let directory = try TemporaryDirectory("notify")
        defer { directory.remove() }
        let (mountpoint, socketPath) = (directory.appending("mnt"), directory.appending("notify.sock"))
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let listener = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socketPath.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessRunner.tusfsExecutable)
        process.arguments = ["mount", mountpoint, "--foreground", "--cache", directory.appending("cache")]
        process.environment = ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": socketPath]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            unmount(mountpoint)
        }
        func receive(timeout: Int32) -> String? {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, timeout) == 1 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(listener, &buffer, buffer.count, 0)
            return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
        }
        let ready = receive(timeout: 30_000)
        #expect(ready?.hasPrefix("READY=1") == true, "\(ready ?? "nothing")")
        #expect(MountTable.isMountPoint(mountpoint))
        process.terminate()
        let stopping = receive(timeout: 30_000)
        #expect(stopping == "STOPPING=1", "\(stopping ?? "nothing")")
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(!MountTable.isMountPoint(mountpoint))
    }
}
