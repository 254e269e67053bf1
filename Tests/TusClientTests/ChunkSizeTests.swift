import Foundation
import TestSupport
import Testing
import TusCore

@testable import TusClient

/// PATCHes that grow while the link is fast, and stop growing after a cut.
@Suite("tus PATCH sizes")
struct ChunkSizeTests {
    static let mib: Int64 = 1 << 20

    @Test("a PATCH faster than the target grows the size to what the link moves in that time, within 4× and the maximum")
    func growth() {
        var sizer = ChunkSizer(size: 64 * Self.mib, maximum: 1 << 30, duration: .seconds(2))
        // 64 MiB in 0.5 s: the link moves 256 MiB in 2 s.
        let changed1 = sizer.sent(64 * Self.mib, in: .milliseconds(500))
        #expect(changed1)
        #expect(sizer.size == 256 * Self.mib)
        // 256 MiB in 0.1 s: 5 GiB in 2 s, but at most 4× larger.
        let changed2 = sizer.sent(256 * Self.mib, in: .milliseconds(100))
        #expect(changed2)
        #expect(sizer.size == 1 << 30)
        // A PATCH chosen before the size grew (its checksum computed ahead) counts by its rate too.
        var lagging = ChunkSizer(size: 256 * Self.mib, maximum: 1 << 30, duration: .seconds(2))
        let changedLagging = lagging.sent(64 * Self.mib, in: .milliseconds(100))
        #expect(changedLagging)
        #expect(lagging.size == 1 << 30, "64 MiB in 0.1 s: 1.25 GiB in 2 s, 4× is 1 GiB, the maximum")
        let changed3 = sizer.sent(1 << 30, in: .milliseconds(100))
        #expect(!changed3, "the maximum is reached")

        var small = ChunkSizer(size: Self.mib, maximum: 1 << 30, duration: .seconds(2))
        let changed4 = small.sent(Self.mib, in: .milliseconds(1))
        #expect(changed4)
        #expect(small.size == 4 * Self.mib, "at most 4× per PATCH")
    }

    @Test("the file's last PATCH, a slow PATCH or fixed PATCHes do not change the size")
    func noGrowth() {
        var sizer = ChunkSizer(size: 64 * Self.mib, maximum: 1 << 30, duration: .seconds(2))
        let changed5 = sizer.sent(10 * Self.mib, in: .milliseconds(10), last: true)
        #expect(!changed5, "the file's last bytes say nothing of the link")
        let changed6 = sizer.sent(64 * Self.mib, in: .seconds(3))
        #expect(!changed6, "slower than the target")
        let changed7 = sizer.sent(64 * Self.mib, in: .milliseconds(1800))
        #expect(!changed7, "less than a quarter more is not worth it")
        #expect(sizer.size == 64 * Self.mib)
        var fixed = ChunkSizer(size: 64 * Self.mib, maximum: 64 * Self.mib, duration: .seconds(2))
        let changed8 = fixed.sent(64 * Self.mib, in: .milliseconds(1))
        #expect(!changed8)
        #expect(fixed.size == 64 * Self.mib)
    }

    @Test("a cut without progress halves the size and stops the growth")
    func cutStopsGrowth() {
        var sizer = ChunkSizer(size: 64 * Self.mib, maximum: 1 << 30, duration: .seconds(2))
        let changed9 = sizer.cutWithoutProgress(minimum: 256 * 1024)
        #expect(changed9)
        #expect(sizer.size == 32 * Self.mib && sizer.maximum == 32 * Self.mib)
        let changed10 = sizer.sent(32 * Self.mib, in: .milliseconds(1))
        #expect(!changed10)
        var tiny = ChunkSizer(size: 256 * 1024, maximum: 1 << 30, duration: .seconds(2))
        let changed11 = tiny.cutWithoutProgress(minimum: 256 * 1024)
        #expect(!changed11)
        #expect(tiny.maximum == 256 * 1024)
    }

    @Test("the next PATCH's digest is computed for two sizes in one pass, each the digest of that many bytes")
    func digestsOfTwoSizes() async throws {
        let dir = try TemporaryDirectory("digests")
        defer { dir.remove() }
        _ = try TestFiles.make(dir.appending("f.bin"), size: 3 << 20)
        let file = try ReadOnlyFile(path: dir.appending("f.bin"))
        for algorithm in [ChecksumAlgorithm.crc32, .sha1, .sha256] {
            let pending = PendingDigest(algorithm, file: file, offset: 100, counts: [2 << 20, 1 << 20, 1 << 20], blockSize: 64 * 1024)
            #expect(pending.counts == [1 << 20, 2 << 20])
            #expect(pending.largestCount(notAbove: (3 << 19)) == 1 << 20)
            #expect(pending.largestCount(notAbove: 1000) == nil)
            let short = try await pending.digest(of: 1 << 20)
            let long = try await pending.digest(of: 2 << 20)
            #expect(short == (try file.checksum(algorithm, offset: 100, length: 1 << 20, blockSize: 4096)))
            #expect(long == (try file.checksum(algorithm, offset: 100, length: 2 << 20, blockSize: 4096)))
        }
        // Past the end of the file: the digest fails, it is never a digest of fewer bytes.
        let beyond = PendingDigest(.crc32, file: file, offset: 2 << 20, counts: [4 << 20], blockSize: 4096)
        await #expect(throws: TusError.self) { try await beyond.digest(of: 4 << 20) }
    }

    @Test("an upload on a fast link sends growing PATCHes (fewer requests), and arrives intact")
    func growingPatchesOnTheWire() async throws {
        let server = try TusFlakyServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory("grow")
        defer { dir.remove() }
        let data = try TestFiles.make(dir.appending("f.bin"), size: 12 << 20)
        // A target no PATCH reaches (the growth, not the machine's speed, is under test): 4× per PATCH.
        let tus = TusUploader(configuration: .init(chunkSize: 256 * 1024, maximumChunkSize: 8 << 20, chunkDuration: .seconds(100_000)))
        let upload = try await tus.upload(file: dir.appending("f.bin"), to: server.endpoint)
        #expect(try await server.storedData(of: upload.url) == data)

        let offsets = try await server.requestLog().filter { $0.hasPrefix("PATCH ") }.compactMap { Int64($0.dropFirst(6)) }
        let sizes = zip(offsets, offsets.dropFirst() + [Int64(data.count)]).map { $1 - $0 }
        // 4× larger each time from the second PATCH on (its checksum was computed, while the first went, for
        // the first size and for 4× it): 48 PATCHes of 256 KiB become four.
        let (small, largest): (Int64, Int64) = (256 * 1024, 8 << 20)
        #expect(Array(sizes.prefix(3)) == [small, 1 << 20, 4 << 20], "\(sizes)")
        #expect(sizes.count == 4, "\(sizes)")
        #expect(sizes.allSatisfy { $0 <= largest }, "\(sizes)")
    }
}
