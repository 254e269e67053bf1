import CLinux
import Foundation
import Hummingbird
import NIOCore
import TusCore
#if canImport(Glibc)
import Glibc
#endif

/// Streams a request body into a file at a given offset, as it arrives: memory use does not grow with the body.
///
/// Counts and optionally hashes the bytes (the request's `Upload-Checksum`), stops at a byte limit, and injects a
/// dropped connection after ``FaultInjection/dropAfterBytes`` bytes. Whatever happens, ``written`` tells how many
/// bytes reached the file, so the caller can keep them (or, with a checksum, discard them).
///
/// While the body arrives, the kernel is asked every ``writebackInterval`` bytes to start writing them to the disk
/// (`sync_file_range`), so the `fsync` that must precede the answer (``sync()``) finds little left to write.
public struct BodyWriter: ~Copyable {
    private let fd: Int32
    private let path: String
    private let startOffset: Int64
    /// Bytes written to the file so far.
    public private(set) var written: Int64 = 0
    private var hasher: ChecksumHasher?
    private let backgroundDigests: [ChecksumAlgorithm]
    /// Bytes written whose write-out to the disk has not been started yet.
    private var unflushed: Int64 = 0

    /// How many bytes are written between two requests to start writing them to the disk.
    static let writebackInterval: Int64 = 8 << 20

    /// Opens `path` for writing at `offset`, cutting anything past `offset` (left over by a crash).
    /// - Parameters:
    ///   - checksum: the algorithm of the request's `Upload-Checksum`, to compute ``digest()``.
    ///   - backgroundDigests: for a body that is the whole file and is kept as it arrives (a plain PUT): the
    ///     algorithms of digests of the file that ``BackgroundDigests/shared`` computes while the bytes arrive
    ///     (keyed by `path`); ``sync()`` marks the file complete.
    public init(path: String, offset: Int64, checksum: ChecksumAlgorithm?, backgroundDigests: [ChecksumAlgorithm] = []) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TusRefusal.storage("cannot open the data file (errno \(errno))") }
        guard ftruncate(fd, off_t(offset)) == 0 else {
            let e = errno
            close(fd)
            throw TusRefusal.storage("cannot truncate the data file (errno \(e))")
        }
        self.path = path
        startOffset = offset
        hasher = checksum.map { $0.makeHasher() }
        self.backgroundDigests = backgroundDigests
    }

    deinit { close(fd) }

    /// The digest of the bytes written, when a checksum algorithm was given.
    public func digest() -> Data? { hasher?.finalize() }

    /// Writes `body` until it ends, `limit` bytes were written (more is ``TusRefusal/tooLarge(_:)``), or the
    /// connection drops (the error is rethrown; ``written`` holds what arrived).
    /// - Parameters:
    ///   - dropAfterBytes: inject a dropped connection once this many bytes were written (fault injection).
    ///   - onBytes: called with each piece's size once it is in the file (for metrics).
    ///   - dropConnection: called when the injected drop fires; it should close the connection.
    public mutating func write(
        _ body: RequestBody, limit: Int64?, dropAfterBytes: Int64? = nil, onBytes: (Int64) -> Void,
        dropConnection: () -> Void = {}
    ) async throws {
        for try await buffer in body {
            var piece = buffer
            var dropNow = false
            if let drop = dropAfterBytes, written + Int64(piece.readableBytes) >= drop {
                piece = piece.getSlice(at: piece.readerIndex, length: Int(max(0, drop - written)))!
                dropNow = true
            }
            if let limit, written + Int64(piece.readableBytes) > limit {
                let fits = Int(limit - written)
                try append(piece.getSlice(at: piece.readerIndex, length: fits)!, onBytes: onBytes)
                throw TusRefusal.tooLarge("the body is longer than the upload's remaining length (\(limit) bytes)")
            }
            try append(piece, onBytes: onBytes)
            if dropNow {
                dropConnection()
                throw FaultInjection.ConnectionDropped()
            }
        }
    }

    private mutating func append(_ buffer: ByteBuffer, onBytes: (Int64) -> Void) throws {
        guard buffer.readableBytes > 0 else { return }
        let count = try buffer.withUnsafeReadableBytes { raw -> Int in
            var done = 0
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(startOffset + written + Int64(done)))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw TusRefusal.storage("write failed (errno \(errno))")
                }
                done += n
            }
            return done
        }
        buffer.withUnsafeReadableBytes { hasher?.update(bufferPointer: $0) }
        written += Int64(count)
        unflushed += Int64(count)
        if unflushed >= Self.writebackInterval {
            // Asynchronous: only starts the write-out of the bytes just written (an error here is harmless,
            // sync() reports what matters).
            _ = sync_file_range(fd, off_t(startOffset + written - unflushed), off_t(unflushed), tusfs_SYNC_FILE_RANGE_WRITE)
            unflushed = 0
            BackgroundDigests.shared.advance(path, path: path, to: startOffset + written, length: nil, algorithms: backgroundDigests)
        }
        onBytes(Int64(count))
    }

    /// Flushes the written bytes to the disk (on a Dispatch thread: fsync may take a while). With a background
    /// digest, the file is then complete.
    public func sync() async throws {
        let fd = fd
        try await runBlocking {
            guard fsync(fd) == 0 else { throw TusRefusal.storage("fsync failed (errno \(errno))") }
        }
        let size = startOffset + written
        BackgroundDigests.shared.advance(path, path: path, to: size, length: size, algorithms: backgroundDigests)
    }

    /// Cuts the file back to `offset` (used to discard a chunk whose checksum failed).
    public func truncate(to offset: Int64) {
        _ = ftruncate(fd, off_t(offset))
    }
}

extension FaultInjection {
    /// Thrown after an injected connection drop; the connection is already closed, so no answer arrives.
    public struct ConnectionDropped: ServerError {
        public var status: HTTPResponse.Status { .internalServerError }
        public var message: String { "connection dropped by fault injection" }
        public var code: String { "INJECTED_DROP" }
    }
}
