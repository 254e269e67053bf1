import Timekeeping

/// The size of the next PATCH of an upload.
///
/// Every PATCH costs a round trip before its bytes flow, so on a distant service small PATCHes waste most of a
/// fast link. PATCHes start at ``TusUploader/Configuration/chunkSize``; after each PATCH that was not the file's
/// last, the size becomes what the link moves in ``TusUploader/Configuration/chunkDuration`` at that PATCH's rate,
/// when that is larger (at most ``largestGrowth`` times the size, at most
/// ``TusUploader/Configuration/maximumChunkSize``); it never shrinks on its own. A connection cut without
/// progress halves the size and stops the growth for the rest of the upload.
///
/// Growing by a few times per PATCH, not at once to the largest, keeps the checksum of the next PATCH (computed
/// while the one before is sent) about as long to compute as that PATCH takes to send.
struct ChunkSizer: Sendable {
    /// The size of the next PATCH.
    private(set) var size: Int64
    /// The largest size growth may reach (lowered by ``cutWithoutProgress(minimum:)``).
    private(set) var maximum: Int64
    /// How long a PATCH should last once the link is known.
    let duration: Duration

    /// The most the size grows per PATCH.
    static let largestGrowth: Double = 4

    init(size: Int64, maximum: Int64, duration: Duration) {
        self.size = max(1, size)
        self.maximum = max(self.size, maximum)
        self.duration = duration
    }

    /// Records a PATCH of `bytes` that took `elapsed`; `last` when it ended the file (its size says nothing of
    /// the link). Returns true when the size changed.
    mutating func sent(_ bytes: Int64, in elapsed: Duration, last: Bool = false) -> Bool {
        guard !last, bytes > 0, size < maximum else { return false }
        let seconds = max(elapsed.seconds, 0.001)
        let target = Double(bytes) / seconds * duration.seconds  // what the link moves in `duration`
        var grown = min(Double(maximum), Double(size) * Self.largestGrowth, target)
        if grown >= Double(1 << 20) { grown = (grown / Double(1 << 20)).rounded(.down) * Double(1 << 20) }
        guard grown > Double(size) * 1.25 else { return false }  // not worth a change
        size = Int64(grown)
        return true
    }

    /// A connection was cut and the server kept nothing of the PATCH: half the size from now on (not below
    /// `minimum`), and no growth for the rest of this upload. Returns true when the size changed.
    mutating func cutWithoutProgress(minimum: Int64) -> Bool {
        let halved = max(minimum, size / 2)
        let changed = halved < size
        if changed { size = halved }
        maximum = size
        return changed
    }
}
