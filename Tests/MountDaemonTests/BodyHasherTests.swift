import Crypto
import Foundation
@testable import MountDaemon
import NIOCore
import NIOPosix
import Testing

/// The SHA-256 a read-back is checked with, computed beside the writes in batches (`BodyHasher`).
@Suite("Read-back body hasher")
struct BodyHasherTests {
    /// A part larger than what may wait holds the writer back until it is hashed; the parts after it, of
    /// uneven sizes, give with it the digest of the whole body, in order.
    @Test func partsGiveTheDigestOfTheWholeBodyInOrderAndTooMuchWaitingHoldsTheWriterBack() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let eventLoop = group.next()
        var whole = SHA256()
        let hasher = BodyHasher()
        let large = [UInt8](repeating: 7, count: BodyHasher.lag + (1 << 20))
        whole.update(data: large)
        let held = hasher.add(ByteBuffer(bytes: large), on: eventLoop)
        #expect(held != nil)
        try held?.wait()
        for size in [1, 4096, 65_537, 1 << 20, 3] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ size) }
            whole.update(data: bytes)
            if let wait = hasher.add(ByteBuffer(bytes: bytes), on: eventLoop) { try wait.wait() }
        }
        let expected = whole.finalize().map { String(format: "%02x", $0) }.joined()
        #expect(hasher.finish() == expected)
    }

    @Test func anEmptyBodyHasTheDigestOfNothing() {
        #expect(BodyHasher().finish() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
