import Foundation
import TestSupport
import Testing
import TusServer
#if canImport(Glibc)
import Glibc
#endif

/// `tusfs mount --tus`: a plain tus server that gives an upload's data back at its URL (a GET, as tusd does)
/// lets the mount evict the file and read it back; one that does not keeps every file in the cache.
@Suite("A mount on a plain tus server: eviction where the server gives data back", .serialized)
struct TusMountReadBackTests {
    static func run(_ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(ProcessRunner.tusfsExecutable, arguments)
    }

    static func attribute(_ path: String, _ name: String) throws -> String? {
        let result = try ProcessRunner.run("getfattr", ["--only-values", "-n", "user.tusfs." + name, path])
        return result.succeeded ? result.stdout : nil
    }

    static func blocks(_ path: String) throws -> Int {
        var attributes = stat()
        guard stat(path, &attributes) == 0 else { throw TestFailure("stat \(path): errno \(errno)") }
        return Int(attributes.st_blocks)
    }

    @Test func aFileTheServerGivesBackIsEvictedAndReadBack() async throws {
        try await withTusServer(maxSize: nil) { server in
            try await withTusfsMount("tus-read-back", extraArguments: ["--tus", server.endpoint.absoluteString, "--write-back", "0"]) { mount in
                let path = mount.path("clip.bin")
                let data = try TestFiles.make(path, size: 3_000_000, seed: 3)
                let wait = try Self.run(["wait", mount.mountpoint, "--timeout", "60"])
                #expect(wait.status == 0, "\(wait.stderr)")
                let evict = try Self.run(["cache", "evict", path])
                #expect(evict.succeeded, "\(evict.stderr)")
                #expect(try Self.attribute(path, "cached") == "no")
                // What is left is the mark of the eviction (an extended attribute may take a block of its own).
                #expect(try Self.blocks(mount.backingPath("clip.bin")) * 512 <= 4096)
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == data)
                // The reader may have had the last byte a moment before the read-back is synced and marked whole.
                let whole = await UploadBridgeFixture.eventually(timeout: 20) { (try? Self.attribute(path, "cached")) == "yes" }
                #expect(whole, "\(String(describing: try? Self.attribute(path, "cached")))")
                #expect(try Self.blocks(mount.backingPath("clip.bin")) * 512 >= 3_000_000)
            }
        }
    }

    @Test func aServerThatGivesNothingBackKeepsEveryFile() async throws {
        try await withTusServer(maxSize: nil, servesData: false) { server in
            try withTusfsMount("tus-no-read-back", extraArguments: ["--tus", server.endpoint.absoluteString, "--write-back", "0"]) { mount in
                let path = mount.path("clip.bin")
                let data = try TestFiles.make(path, size: 1_000_000, seed: 4)
                let wait = try Self.run(["wait", mount.mountpoint, "--timeout", "60"])
                #expect(wait.status == 0, "\(wait.stderr)")
                let evict = try Self.run(["cache", "evict", path])
                #expect(!evict.succeeded)
                let log = (try? String(contentsOfFile: mount.cache + "/tusfs.log", encoding: .utf8)) ?? ""
                #expect(evict.stderr.contains("cannot give it back"), "\(evict.stderr)\n\(log.suffix(3000))")
                #expect(try Self.attribute(path, "cached") == "yes")
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == data)
            }
        }
    }
}
