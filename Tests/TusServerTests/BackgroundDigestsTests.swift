import CLinux
import Foundation
import TestSupport
import Testing
import TusCore
import TusServer
#if canImport(Glibc)
import Glibc
#endif

/// ``BackgroundDigests`` hashes a growing file behind the offset it is told, tags the file once complete, and hands
/// its work over to a reader that cannot wait; ``ContentDigestTag`` vouches only for an unchanged file.
@Suite struct BackgroundDigestsTests {
    private func append(_ data: Data, to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: data)
        try handle.close()
    }

    private func waitForTag(_ path: String, algorithm: ChecksumAlgorithm = .md5) async throws -> Data? {
        for _ in 0..<200 {
            if let tag = ContentDigestTag.read(path: path, algorithm: algorithm) { return tag.digest }
            try await Task.sleep(for: .milliseconds(25))
        }
        return nil
    }

    @Test func hashesAGrowingFileAndTagsIt() async throws {
        let directory = try TemporaryDirectory("digests")
        defer { directory.remove() }
        let path = directory.appending("grow.bin")
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let data = randomBytes(9 << 20)  // more than two pieces
        let digests = BackgroundDigests()
        var offset = 0
        for size in [1 << 20, 5 << 20, 3 << 20] {
            try append(data[offset..<offset + size], to: path)
            offset += size
            digests.advance("grow", path: path, to: Int64(offset), length: Int64(data.count), algorithms: [.md5])
        }
        #expect(try await waitForTag(path) == ChecksumAlgorithm.md5.digest(of: data))
        #expect(!digests.isTracking("grow"))
        // The tag follows a rename.
        let moved = directory.appending("moved.bin")
        try FileManager.default.moveItem(atPath: path, toPath: moved)
        #expect(digests.digest(ofFileAt: moved, algorithm: .md5)?.digest == ChecksumAlgorithm.md5.digest(of: data))
        #expect(ContentDigestTag.read(path: moved, algorithm: .sha1) == nil)
        // A file changed after it was tagged is not vouched for.
        try append(Data([1]), to: moved)
        #expect(ContentDigestTag.read(path: moved, algorithm: .md5) == nil)
        #expect(digests.digest(ofFileAt: moved, algorithm: .md5) == nil)
    }

    @Test func aReaderTakesOverTheRest() throws {
        let directory = try TemporaryDirectory("digests")
        defer { directory.remove() }
        let path = directory.appending("partial.bin")
        let data = randomBytes(6 << 20)
        _ = FileManager.default.createFile(atPath: path, contents: data)
        let digests = BackgroundDigests()
        // Only the first MiB is said to be final; the reader needs the digest of the whole file now.
        digests.advance("partial", path: path, to: 1 << 20, length: nil, algorithms: [.md5])
        let result = try #require(digests.digest(ofFileAt: path, algorithm: .md5))
        #expect(result.size == Int64(data.count))
        #expect(result.digest == ChecksumAlgorithm.md5.digest(of: data))
        #expect(!digests.isTracking("partial"))
        #expect(ContentDigestTag.read(path: path, algorithm: .md5)?.digest == result.digest)
    }

    @Test func severalDigestsComeFromOneReadAndAreTaggedTogether() async throws {
        let directory = try TemporaryDirectory("digests")
        defer { directory.remove() }
        let path = directory.appending("both.bin")
        let data = randomBytes(5 << 20)
        _ = FileManager.default.createFile(atPath: path, contents: data)
        let digests = BackgroundDigests()
        digests.advance("both", path: path, to: Int64(data.count), length: Int64(data.count), algorithms: [.sha256, .crc32])
        #expect(try await waitForTag(path, algorithm: .crc32) == ChecksumAlgorithm.crc32.digest(of: data))
        let tag = try #require(ContentDigestTag.read(path: path))
        #expect(tag.size == Int64(data.count))
        #expect(tag.digests == [.sha256: ChecksumAlgorithm.sha256.digest(of: data), .crc32: ChecksumAlgorithm.crc32.digest(of: data)])
        #expect(digests.digests(ofFileAt: path, algorithms: [.sha256, .crc32])?.digests.count == 2)
        // A tag without an algorithm the reader needs is not enough.
        #expect(digests.digests(ofFileAt: path, algorithms: [.sha256, .md5]) == nil)
    }

    @Test func aTagOfOneAlgorithmStillReads() throws {
        // The form written before several algorithms were kept: ALGORITHM HEXDIGEST SIZE MTIME.
        let directory = try TemporaryDirectory("digests")
        defer { directory.remove() }
        let path = directory.appending("old.bin")
        let data = randomBytes(1000)
        _ = FileManager.default.createFile(atPath: path, contents: data)
        var info = stat()
        #expect(stat(path, &info) == 0)
        let digest = ChecksumAlgorithm.sha256.digest(of: data)
        let value = Array("sha256 \(digest.lowercaseHex) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)".utf8)
        guard setxattr(path, "user.tusfs.content-digest", value, value.count, 0) == 0 else {
            Issue.record("the temporary directory keeps no extended attributes (errno \(errno))")
            return
        }
        #expect(ContentDigestTag.read(path: path, algorithm: .sha256)?.digest == digest)
        #expect(ContentDigestTag.read(path: path, algorithm: .crc32) == nil)
    }

    @Test func aFileNeverAdvancedHasNoDigest() throws {
        let directory = try TemporaryDirectory("digests")
        defer { directory.remove() }
        let path = directory.appending("other.bin")
        _ = FileManager.default.createFile(atPath: path, contents: randomBytes(1000))
        #expect(BackgroundDigests().digest(ofFileAt: path, algorithm: .md5) == nil)
        // Small files are left to their readers.
        let digests = BackgroundDigests()
        digests.advance("small", path: path, to: 1000, length: 1000, algorithms: [.md5])
        #expect(!digests.isTracking("small"))
    }
}
