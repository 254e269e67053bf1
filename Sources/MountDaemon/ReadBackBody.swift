import AsyncHTTPClient
import Dispatch
import Foundation
import MirrorFilesystem
import NIOCore
import Synchronization
import TusCore
#if canImport(Glibc)
import Glibc
#endif

/// A GET's body on its way into a cache file, whoever reads it off the network (the HTTP client's event loop,
/// or `PlainHTTPGet` on the read-back's own thread): each part is written at the end of what was written and
/// handed to a `BodyHasher`; the length is checked and, where the service gives one, a digest: the CRC-32 of an
/// `x-amz-checksum-crc32` header (what `tusfs serve`, S3 and the object stores that follow it send), else the
/// SHA-256 of an `ETag` of 64 hex digits (`tusfs serve`'s). The cheaper one is checked when both come: either
/// tells a damaged or different copy, and the CRC-32 costs a tenth of the CPU (about 0.07 s per GiB here against
/// SHA-256's 0.75, which on a small machine slows the read-back itself). The last part is reported written
/// only once the whole body is checked (`verify()`), so a reader never reaches the end of a copy that turns out
/// different: it gets EIO instead.
final class ReadBackBody: Sendable {
    let size: Int64
    let descriptor: Int32
    /// What errors name (a signed URL's token is not shown).
    let url: String
    let progress: @Sendable (Int64) -> Void

    private struct State {
        /// What has been written, and its digest when the service gives one to compare with.
        var offset: Int64 = 0
        var expected: ExpectedDigest?
        var hasher: BodyHasher?
    }
    private let state = Mutex(State())

    init(size: Int64, descriptor: Int32, url: String, progress: @escaping @Sendable (Int64) -> Void) {
        self.size = size
        self.descriptor = descriptor
        self.url = url
        self.progress = progress
    }

    /// The answer's head came (200 OK); `header` gives a header's first value by its name.
    func begin(header: (String) -> String?) throws(ReadBackError) {
        if let length = header("content-length").flatMap(Int64.init), length != size {
            throw ReadBackError("the service's copy is \(length) bytes, the file \(size)")
        }
        let expected = ExpectedDigest(header: header)
        state.withLock {
            $0.expected = expected
            $0.hasher = expected.map { BodyHasher(algorithm: $0.algorithm) }
        }
        progress(0)
    }

    /// Writes one body part at the end of what was written (parts come one at a time) and hands it to the
    /// hasher; returns what the next part must wait for when the hashing lags too far behind.
    func write(_ buffer: ByteBuffer, on eventLoop: any EventLoop) throws(ReadBackError) -> EventLoopFuture<Void>? {
        let failure: ReadBackError? = buffer.withUnsafeReadableBytes { bytes in
            do throws(ReadBackError) {
                try write(bytes)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        return state.withLock { $0.hasher }?.add(buffer, on: eventLoop)
    }

    /// Writes `bytes` at the end of what was written, without hashing them (see `hash`).
    func write(_ bytes: UnsafeRawBufferPointer) throws(ReadBackError) {
        let count = Int64(bytes.count)
        let start = state.withLock { $0.offset }
        guard start + count <= size else { throw ReadBackError("the service's copy is longer than the file's \(size) bytes") }
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(start) + off_t(done))
            if written < 0 {
                if errno == EINTR { continue }
                throw ReadBackError("writing the cache file: \(String(cString: strerror(errno)))")
            }
            done += written
        }
        state.withLock { $0.offset = start + count }
        if start + count < size { progress(start + count) }
    }

    /// Whether the body is hashed (the service gave a hash to compare with).
    var isHashed: Bool { state.withLock { $0.hasher != nil } }

    /// Hands bytes already written to the hasher, in order, and returns at once; `done` runs once they are
    /// hashed (until then the memory stays the caller's and unchanged), or at once when nothing is hashed.
    func hash(_ bytes: UnsafeRawBufferPointer, done: @escaping @Sendable () -> Void) {
        guard let hasher = state.withLock({ $0.hasher }) else { return done() }
        hasher.add(bytes, done: done)
    }

    /// The body ended: it must have been whole.
    func end() throws(ReadBackError) {
        let received = state.withLock { $0.offset }
        guard received == size else { throw ReadBackError("the service's copy came back short: \(received) of \(size) bytes") }
    }

    /// After the whole body came: waits for its hash and compares it with the service's, then reports the
    /// file whole to its readers.
    func verify() throws(ReadBackError) {
        let (expected, hasher) = state.withLock { ($0.expected, $0.hasher) }
        if let expected, let digest = hasher?.finish(), digest != expected.hex {
            throw ReadBackError("the service's copy is not the file: \(expected.name) \(digest), the service says \(expected.hex)")
        }
        progress(size)
    }
}

/// The digest a GET's answer says its body has, from its headers (see `ReadBackBody`).
struct ExpectedDigest: Equatable {
    let algorithm: ChecksumAlgorithm
    /// In lowercase hex.
    let hex: String

    /// What errors call the algorithm.
    var name: String { algorithm == .crc32 ? "CRC-32" : "SHA-256" }

    /// The CRC-32 of `x-amz-checksum-crc32` (base64 of 4 bytes), else the SHA-256 of an `ETag` of 64 hex digits
    /// (quoted or not); nil when the answer gives neither.
    init?(header: (String) -> String?) {
        if let value = header("x-amz-checksum-crc32"), let bytes = Data(base64Encoded: value.trimmingCharacters(in: .whitespaces)),
            bytes.count == 4
        {
            self.init(algorithm: .crc32, hex: bytes.lowercaseHex)
            return
        }
        guard let tag = header("etag").map({ $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"W/")) }),
            tag.utf8.count == 64, tag.allSatisfy(\.isHexDigit)
        else { return nil }
        self.init(algorithm: .sha256, hex: tag.lowercased())
    }

    init(algorithm: ChecksumAlgorithm, hex: String) {
        self.algorithm = algorithm
        self.hex = hex
    }
}

/// Computes a read-back's digest on a queue of its own, beside the thread that writes the body to the cache
/// file (hashing a body with SHA-256 takes about as long as receiving it: on one thread the two would take
/// turns). At most `lag` bytes wait to be hashed; past that the body waits for the hashing to catch up.
final class BodyHasher: @unchecked Sendable {
    static let lag = 32 << 20
    private let queue = DispatchQueue(label: "tusfs.read-back-hash")
    /// Touched on `queue` only.
    private var hasher: ChecksumHasher

    init(algorithm: ChecksumAlgorithm = .sha256) {
        hasher = algorithm.makeHasher()
    }
    private struct Backlog {
        var bytes = 0
        var waiter: EventLoopPromise<Void>?
    }
    private let backlog = Mutex(Backlog())

    /// Queues `buffer` to be hashed after the parts before it; returns a future to wait for when too much
    /// waits already (completed once half of it is hashed), nil otherwise.
    func add(_ buffer: ByteBuffer, on eventLoop: any EventLoop) -> EventLoopFuture<Void>? {
        let count = buffer.readableBytes
        let waiter = backlog.withLock { backlog -> EventLoopPromise<Void>? in
            backlog.bytes += count
            guard backlog.bytes > Self.lag else { return nil }
            let promise = eventLoop.makePromise(of: Void.self)
            backlog.waiter = promise
            return promise
        }
        queue.async { [self] in
            buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            let caughtUp = backlog.withLock { backlog -> EventLoopPromise<Void>? in
                backlog.bytes -= count
                guard backlog.bytes <= Self.lag / 2 else { return nil }
                defer { backlog.waiter = nil }
                return backlog.waiter
            }
            caughtUp?.succeed()
        }
        return waiter?.futureResult
    }

    /// Queues the bytes at `bytes` to be hashed after the parts before it; `done` runs on the hasher's queue once
    /// they are (the caller keeps the memory unchanged until then; the caller bounds what waits).
    func add(_ bytes: UnsafeRawBufferPointer, done: @escaping @Sendable () -> Void) {
        let piece = Piece(bytes: bytes)
        queue.async { [self] in
            hasher.update(bufferPointer: piece.bytes)
            done()
        }
    }

    /// Memory lent to the hasher's queue by its owner until `done`.
    private struct Piece: @unchecked Sendable {
        let bytes: UnsafeRawBufferPointer
    }

    /// Waits for every part queued so far; the digest in lowercase hex.
    func finish() -> String {
        queue.sync { hasher.finalize().lowercaseHex }
    }
}
