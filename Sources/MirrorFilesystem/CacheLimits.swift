import Foundation

/// How much of the disk the cache (`CACHE/files`) may take: a cap on its file data, a share of its
/// filesystem kept free, and how long a writer waits for room before it gets ENOSPC.
public struct CacheLimits: Sendable, Equatable {
    /// Free space to keep on the cache's filesystem: bytes, or a percentage of its size.
    public enum FreeSpace: Sendable, Equatable, CustomStringConvertible {
        case bytes(Int64)
        case percent(Double)

        /// The bytes to keep free on a filesystem of `total` bytes.
        public func bytes(ofTotal total: Int64) -> Int64 {
            switch self {
            case .bytes(let bytes): bytes
            case .percent(let percent): Int64(Double(total) * percent / 100)
            }
        }

        public var description: String {
            switch self {
            case .bytes(let bytes): "\(bytes)"
            case .percent(let percent): "\(percent)%"
            }
        }
    }

    /// The most file data (allocated blocks) `CACHE/files` may hold; nil: no cap of its own.
    public var maxSize: Int64?
    /// Free space kept on the cache's filesystem.
    public var minFree: FreeSpace
    /// Seconds a writer waits for room (uploads, then eviction) before it gets ENOSPC.
    public var fullWait: Double

    /// The defaults protect a user who sets nothing: 10 % of the cache's filesystem stays free, and writers
    /// wait up to 120 s for room.
    public init(maxSize: Int64? = nil, minFree: FreeSpace = .percent(10), fullWait: Double = 120) {
        self.maxSize = maxSize
        self.minFree = minFree
        self.fullWait = fullWait
    }

    /// A size: a number of bytes with an optional `K`, `M`, `G` or `T` suffix (powers of 1024; `KiB`, `MB`
    /// and `k` are read the same), e.g. `64M`, `1.5G`, `4096`. Nil when the text is not one.
    public static func size(_ text: String) -> Int64? {
        var number = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where number.hasSuffix(suffix) && number.count > suffix.count {
            number.removeLast(suffix.count)
            break
        }
        var multiplier: Double = 1
        if let last = number.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4][String(last)] {
            multiplier = pow(1024, Double(power))
            number.removeLast()
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let value = Double(number),
            value.isFinite, value >= 0, value * multiplier < 9e18
        else { return nil }
        return Int64(value * multiplier)
    }

    /// `SIZE` (see `size(_:)`) or `N%` (0–90). Nil when the text is neither.
    public static func freeSpace(_ text: String) -> FreeSpace? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("%") {
            guard let percent = Double(trimmed.dropLast()), percent >= 0, percent <= 90 else { return nil }
            return .percent(percent)
        }
        return size(trimmed).map { .bytes($0) }
    }
}
