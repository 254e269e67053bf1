import Synchronization
import TusCore

/// The `Upload-Checksum` values (`<algorithm> <base64>`) of a coming PATCH, computed in the background while the
/// PATCH before it is sent.
///
/// The PATCH's size is chosen only when it goes (the PATCH before tells how fast the link is, see
/// ``ChunkSizer``), so the digest is computed for a few candidate sizes from the same offset in one pass over
/// the data: the digest of each shorter candidate is taken on the way to the longest. The candidates are the
/// size the PATCHes have now and the size they may grow to.
final class PendingDigest: Sendable {
    let offset: Int64
    /// The candidate sizes, ascending.
    let counts: [Int64]

    private struct State {
        var digests: [Int64: String] = [:]
        var failure: TusError?
        var waiting: [(count: Int64, continuation: CheckedContinuation<String, any Error>)] = []
    }
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Bytes hashed between two looks at whether the digest is still wanted.
    static let slice: Int64 = 16 << 20

    /// Starts hashing `file` from `offset` with `algorithm`, for each of `counts` bytes (at least one, all > 0).
    init(_ algorithm: ChecksumAlgorithm, file: ReadOnlyFile, offset: Int64, counts: [Int64], blockSize: Int) {
        self.offset = offset
        self.counts = Array(Set(counts.filter { $0 > 0 })).sorted()
        let handle = Task.detached { [self] in run(algorithm, file: file, blockSize: blockSize) }
        task.withLock { $0 = handle }
    }

    /// Whether this holds (or will hold) the digest of exactly the chunk `offset ..< offset + count`.
    func covers(offset: Int64, count: Int64) -> Bool { self.offset == offset && counts.contains(count) }

    /// The largest candidate size not above `count`, if any.
    func largestCount(notAbove count: Int64) -> Int64? { counts.last { $0 <= count } }

    /// The digest of the first `count` bytes (one of ``counts``), once computed.
    func digest(of count: Int64) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<String, TusError>? = state.withLock { state in
                if let digest = state.digests[count] { return .success(digest) }
                if let failure = state.failure { return .failure(failure) }
                guard counts.contains(count) else { return .failure(TusError.protocolViolation("no digest of \(count) bytes was asked for")) }
                state.waiting.append((count, continuation))
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// Stops hashing (the sizes not reached yet are not wanted).
    func cancel() { task.withLock { $0?.cancel() } }

    private func run(_ algorithm: ChecksumAlgorithm, file: ReadOnlyFile, blockSize: Int) {
        var hasher = algorithm.makeHasher()
        var position = offset
        do throws(TusError) {
            for count in counts {
                let end = offset + count
                while position < end {
                    if Task.isCancelled { throw TusError.file(path: file.path, message: "checksum no longer wanted") }
                    let next = min(end, position + Self.slice)
                    try file.feed(&hasher, from: position, to: next, blockSize: blockSize)
                    position = next
                }
                publish(count, "\(algorithm.rawValue) \(hasher.finalize().base64EncodedString())")
            }
        } catch {
            fail(error)
        }
    }

    private func publish(_ count: Int64, _ digest: String) {
        let waking = state.withLock { state in
            state.digests[count] = digest
            let waking = state.waiting.filter { $0.count == count }.map(\.continuation)
            state.waiting.removeAll { $0.count == count }
            return waking
        }
        for continuation in waking { continuation.resume(returning: digest) }
    }

    private func fail(_ error: TusError) {
        let waking = state.withLock { state in
            state.failure = error
            defer { state.waiting.removeAll() }
            return state.waiting.map(\.continuation)
        }
        for continuation in waking { continuation.resume(throwing: error) }
    }
}
