@testable import MountDaemon
import Testing

@Suite("mount.fuse.tusfs arguments and -o options")
struct FstabHelperTests {
    @Test func theHelperNamesAreRecognized() {
        #expect(FstabMount.isHelper("/sbin/mount.fuse.tusfs"))
        #expect(FstabMount.isHelper("mount.tusfs"))
        #expect(!FstabMount.isHelper("/usr/bin/tusfs"))
    }

    @Test func anFstabLineBecomesAMountCommandLine() throws {
        let arguments = try FstabMount.arguments([
            "tusfs:/var/cache/up", "/mnt/up", "-o", "rw,noauto,_netdev,x-systemd.automount,allow_other,transfers=2,no-passthrough,endpoint=https://e/api",
        ])
        #expect(arguments == [
            "mount", "/mnt/up", "--cache", "/var/cache/up", "--transfers", "2", "--no-passthrough", "--endpoint", "https://e/api",
            "-o", "allow_other",
        ])
    }

    @Test func aConfigFileSourceAndPretendMode() throws {
        #expect(try FstabMount.arguments(["/etc/tusfs/a.toml", "/mnt/a"]) == ["mount", "/mnt/a", "--config", "/etc/tusfs/a.toml"])
        #expect(try FstabMount.arguments(["tusfs", "/mnt/a", "-f"]) == [])
    }

    @Test func malformedHelperArgumentsAreOneLine() {
        #expect(throws: MountError.self) { try FstabMount.arguments(["tusfs"]) }
        #expect(throws: MountError.self) { try FstabMount.arguments(["tusfs", "/mnt/a", "-o", "transfers"]) }
    }

    @Test func optionsTusfsSetsItselfAreRefused() throws {
        #expect(try MountOptions.parse(["allow_other,ro", "noatime"]) == ["allow_other", "ro", "noatime"])
        #expect(throws: MountError.self) { try MountOptions.parse(["fsname=x"]) }
        #expect(throws: MountError.self) { try MountOptions.parse(["a b"]) }
        #expect(MountOptions.source("/var/cache/up") == "tusfs:/var/cache/up")
        #expect(MountOptions.source("/var/cache/a,b") == "tusfs")
    }
}
