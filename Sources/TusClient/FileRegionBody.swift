import AsyncHTTPClient
import Foundation
import NIOCore
import TusCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened read-only for the length of one upload step. Closed when the last reference goes.
///
/// Reads use `pread`, so concurrent readers of the same descriptor never disturb each other's position.
final class ReadOnlyFile: Sendable {
    let path: String
    let descriptor: Int32

    init(path: String) throws(TusError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TusError.file(path: path, message: String(cString: strerror(errno))) }
        self.path = path
        self.descriptor = fd
    }

    deinit { close(descriptor) }

    /// The file's current size in bytes.
    func size() throws(TusError) -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw TusError.file(path: path, message: String(cString: strerror(errno)))
        }
        return Int64(info.st_size)
    }

    /// Reads exactly `count` bytes at `offset` into a new buffer; fails if the file ends first.
    func read(at offset: Int64, count: Int, allocator: ByteBufferAllocator) throws(TusError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: count)
        var filled = 0
        var failure: TusError?
        while filled < count, failure == nil {
            let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - filled) { raw -> Int in
                let n = pread(descriptor, raw.baseAddress, count - filled, off_t(offset) + off_t(filled))
                if n < 0 {
                    if errno == EINTR { return 0 }
                    failure = .file(path: path, message: String(cString: strerror(errno)))
                    return 0
                }
                if n == 0 {
                    failure = .file(path: path, message: "file ended at \(offset + Int64(filled)), expected more data")
                }
                return n
            }
            filled += got
        }
        if let failure { throw failure }
        return buffer
    }

    /// `count` bytes at `offset` as a NIO `FileRegion` (for `sendfile`), on a duplicate of the descriptor that the
    /// region owns: call ``SendableFileRegion/close()`` once the region was written or dropped.
    func sendableRegion(offset: Int64, count: Int64) throws(TusError) -> SendableFileRegion {
        let copy = dup(descriptor)
        guard copy >= 0 else { throw TusError.file(path: path, message: String(cString: strerror(errno))) }
        _ = fcntl(copy, F_SETFD, FD_CLOEXEC)
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: copy)
        return SendableFileRegion(
            region: FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(offset + count)), handle: handle)
    }

    /// The `Upload-Checksum` value (`<algorithm> <base64 digest>`) of `length` bytes at `offset`, read in blocks
    /// into one reused buffer.
    func checksum(_ algorithm: ChecksumAlgorithm, offset: Int64, length: Int64, blockSize: Int) throws(TusError) -> String {
        var hasher = algorithm.makeHasher()
        try feed(&hasher, from: offset, to: offset + length, blockSize: blockSize)
        return "\(algorithm.rawValue) \(hasher.finalize().base64EncodedString())"
    }

    /// Feeds bytes `start ..< end` of the file to `hasher`.
    func feed(_ hasher: inout ChecksumHasher, from start: Int64, to end: Int64, blockSize: Int) throws(TusError) {
        do {
            try hasher.update(descriptor: descriptor, from: start, to: end, blockSize: blockSize)
        } catch {
            throw TusError.file(
                path: path,
                message: error.errorNumber.map { String(cString: strerror($0)) } ?? "file ended at \(error.position), expected more data")
        }
    }
}

/// A part of a file for one request body sent with `sendfile`, with the descriptor it owns.
struct SendableFileRegion: Sendable {
    let region: FileRegion
    let handle: NIOFileHandle

    /// Closes the region's descriptor (once; later calls do nothing).
    ///
    /// A request that fails early (the server answered or cut the connection before the whole body went) may
    /// still have its `sendfile` running on an event loop: NIO then refuses the close with EBUSY for the length
    /// of that one non-blocking call. Giving up there would leak the descriptor (and trip NIO's leak
    /// assertion in debug builds), so the close is tried again until it succeeds or the handle is closed.
    func close() {
        while true {
            do {
                try handle.close()
                return
            } catch let error as IOError where error.errnoCode == EBUSY {
                sched_yield()
            } catch {
                return  // closed already
            }
        }
    }
}

/// The bytes `offset ..< offset + length` of a file as a request body, read in blocks on demand.
///
/// Only one block is in memory per pending read, so a PATCH of any size costs a few blocks of memory.
/// async-http-client asks for the next block only once the previous one was written to the socket.
struct FileRegionBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let file: ReadOnlyFile
    let offset: Int64
    let length: Int64
    let blockSize: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let file: ReadOnlyFile
        var position: Int64
        let end: Int64
        let blockSize: Int
        let allocator = ByteBufferAllocator()

        mutating func next() async throws -> ByteBuffer? {
            guard position < end else { return nil }
            try Task.checkCancellation()
            let count = Int(Swift.min(Int64(blockSize), end - position))
            let block = try file.read(at: position, count: count, allocator: allocator)
            position += Int64(count)
            return block
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(file: file, position: offset, end: offset + length, blockSize: blockSize)
    }
}

extension HTTPClientRequest.Body {
    /// The bytes `offset ..< offset + length` of the file at `path` (to its end when `length` is nil),
    /// streamed in blocks of `blockSize` bytes with `pread`; the file is never loaded whole.
    /// - Returns: the body and its length (sent as `Content-Length`).
    public static func fileRegion(
        path: String, offset: Int64 = 0, length: Int64? = nil, blockSize: Int = 256 * 1024
    ) throws(TusError) -> (body: HTTPClientRequest.Body, length: Int64) {
        let file = try ReadOnlyFile(path: path)
        let count: Int64
        if let length { count = length } else { count = try file.size() - offset }
        let body = HTTPClientRequest.Body.stream(
            FileRegionBody(file: file, offset: offset, length: count, blockSize: blockSize), length: .known(count))
        return (body, count)
    }
}
