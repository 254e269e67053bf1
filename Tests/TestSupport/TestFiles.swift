import Foundation
internal import Timekeeping

/// Files with reproducible pseudo-random content for upload tests.
public enum TestFiles {
    /// Writes `size` bytes of deterministic noise (seeded by `seed`) to `path` and returns them.
    @discardableResult
    public static func make(_ path: String, size: Int, seed: UInt64 = 42) throws -> Data {
        var generator = SplitMix64(seed: seed)
        var data = Data(count: size)
        data.withUnsafeMutableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            for index in 0..<size { bytes[index] = UInt8(truncatingIfNeeded: generator.next()) }
        }
        try data.write(to: URL(fileURLWithPath: path))
        return data
    }
}
