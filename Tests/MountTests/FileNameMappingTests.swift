import CLinux
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every file that exists in the mount reaches the service, whatever its name: names the service cannot take
/// (control characters, more than 200 characters, bytes that are not UTF-8) get a remote name of their own,
/// and names the kernel decorates (` (deleted)`) are not mistaken for removed files.
@Suite("File names the service cannot take", .serialized)
struct FileNameMappingTests {
    /// Local names (as bytes, relative to the copied tree) and the names they must have on the service.
    static let names: [(local: [UInt8], remote: String)] = [
        (Array("line\nbreak.txt".utf8), "line\u{240A}break.txt"),
        (Array("caf".utf8) + [0xE9] + Array(".txt".utf8), "caf\u{201B}E9.txt"),
        (Array("photo (deleted)".utf8), "photo (deleted)"),
        (Array("\u{202E}gpj.exe".utf8), "\u{201B}E2\u{201B}80\u{201B}AEgpj.exe"),
        (Array("dir-".utf8) + [0xE9] + Array("/inner\u{7}.txt".utf8), "dir-\u{201B}E9/inner\u{2407}.txt"),
        (Array("plain.txt".utf8), "plain.txt"),
    ]
    /// The 255-byte name (NAME_MAX): stored under a shortened name that keeps its extension.
    static let longName = Array((String(repeating: "L", count: 251) + ".txt").utf8)

    static func withPath<T>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        try (bytes + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    static func write(_ path: [UInt8], _ contents: [UInt8]) throws {
        let descriptor = withPath(path) { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        guard descriptor >= 0 else { throw TestFailure("create \(path): errno \(errno)") }
        defer { close(descriptor) }
        guard contents.withUnsafeBytes({ Glibc.write(descriptor, $0.baseAddress, $0.count) }) == contents.count else {
            throw TestFailure("write \(path): errno \(errno)")
        }
    }

    static func read(_ path: [UInt8]) throws -> [UInt8] {
        let descriptor = withPath(path) { open($0, O_RDONLY) }
        guard descriptor >= 0 else { throw TestFailure("open \(path): errno \(errno)") }
        defer { close(descriptor) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = Glibc.read(descriptor, &buffer, buffer.count)
            guard count > 0 else { break }
            contents += buffer[..<count]
        }
        return contents
    }

    static func attribute(_ path: [UInt8], _ name: String) -> String? {
        withPath(path) { cPath in
            var value = [UInt8](repeating: 0, count: 4096)
            let count = getxattr(cPath, name, &value, value.count)
            return count < 0 ? nil : String(decoding: value[..<count], as: UTF8.self)
        }
    }

    @Test func aTreeOfNamesTheServiceRefusesRsyncsToReadyAndIdentical() async throws {
        let source = try TemporaryDirectory("names-source")
        defer { source.remove() }
        let root = Array(source.appending("tree").utf8)
        let bridge = try UploadBridgeFixture("names")
        defer { bridge.cleanup() }
        #expect(Self.withPath(root) { mkdir($0, 0o755) } == 0)
        #expect(Self.withPath(root + Array("/dir-".utf8) + [0xE9]) { mkdir($0, 0o755) } == 0)
        for (index, name) in (Self.names.map(\.local) + [Self.longName]).enumerated() {
            try Self.write(root + [UInt8(ascii: "/")] + name, Array("file \(index): \(name)\n".utf8))
        }

        let rsync = try ProcessRunner.run("rsync", ["-a", source.appending("tree") + "/", bridge.mount.path("tree") + "/"])
        #expect(rsync.succeeded, "\(rsync.stderr)")
        let wait = try bridge.wait(timeout: 120)
        #expect(wait.status == 0, "tusfs wait: \(wait.status) \(wait.stderr)\n\(bridge.daemonLog.suffix(3000))")

        let contents = try await bridge.contents()
        let mounted = Array(bridge.mount.path("tree/").utf8)
        for (local, remote) in Self.names {
            let file = try #require(contents.files["tree/" + remote], "\(remote.debugDescription) not on the service: \(contents.files.keys.sorted())")
            #expect(file.operationStatus == "READY")
            #expect(Array(try await ServiceContents.download(file)) == (try Self.read(root + [UInt8(ascii: "/")] + local)))
            #expect(Self.attribute(mounted + local, "user.tusfs.state") == "ready")
            #expect(Self.attribute(mounted + local, "user.tusfs.remote_name") == String(remote.split(separator: "/").last!))
        }
        // The long name: 200 characters on the service, its extension kept, its content intact.
        let longRemote = try #require(Self.attribute(mounted + Self.longName, "user.tusfs.remote_name"))
        #expect(longRemote.unicodeScalars.count == 200 && longRemote.hasSuffix(".txt") && longRemote.hasPrefix("LLLL"))
        let longFile = try #require(contents.files["tree/" + longRemote])
        #expect(Array(try await ServiceContents.download(longFile)) == (try Self.read(root + [UInt8(ascii: "/")] + Self.longName)))
        #expect(contents.files.count == Self.names.count + 1, "\(contents.files.keys.sorted())")
        // The sidecar keeps the real name beside the remote one.
        let sidecar = try JSONSerialization.jsonObject(with: Data(try Self.read(mounted + Array("line\nbreak.txt.tusfs.json".utf8)))) as? [String: Any]
        #expect(sidecar?["path"] as? String == "tree/line\nbreak.txt")
        #expect(sidecar?["remote_name"] as? String == "line\u{240A}break.txt")

        // Renames and removals follow the mapped names.
        let renamed = Self.withPath(mounted + Array("line\nbreak.txt".utf8)) { from in
            Self.withPath(mounted + Array("tab\there.txt".utf8)) { rename(from, $0) }
        }
        #expect(renamed == 0)
        #expect(Self.withPath(mounted + Self.names[1].local) { unlink($0) } == 0)
        let settled = try await UploadBridgeFixture.eventually {
            let now = try await bridge.contents().files
            return now["tree/tab\u{2409}here.txt"] != nil && now["tree/line\u{240A}break.txt"] == nil && now["tree/caf\u{201B}E9.txt"] == nil
        }
        let remaining = try await bridge.contents().files.keys.sorted()
        #expect(settled, "\(remaining)")
        #expect(try await bridge.trashCount() == 1, "the removed Latin-1 file went to the trash")
        #expect(try bridge.wait(timeout: 60).status == 0)
    }
}
