import TusCore

/// The `Upload-Checksum` value (`<algorithm> <base64>`) of one chunk of a file, computed in the background for a
/// coming PATCH.
struct PendingDigest: Sendable {
    let offset: Int64
    let count: Int64
    let task: Task<String, any Error>

    /// Starts hashing `count` bytes of `file` at `offset` with `algorithm` on a background task.
    init(_ algorithm: ChecksumAlgorithm, file: ReadOnlyFile, offset: Int64, count: Int64, blockSize: Int) {
        self.offset = offset
        self.count = count
        task = Task.detached {
            try file.checksum(algorithm, offset: offset, length: count, blockSize: blockSize)
        }
    }

    /// Whether this is the digest of exactly the chunk `offset ..< offset + count`.
    func covers(offset: Int64, count: Int64) -> Bool { self.offset == offset && self.count == count }
}
