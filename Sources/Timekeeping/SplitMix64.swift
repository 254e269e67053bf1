/// SplitMix64 (Steele, Lea and Flood), a small, fast pseudo-random generator whose output is fully determined by
/// its seed: for jitter that must be predictable from a seed, and for reproducible test data.
///
/// Not for anything secret.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's whole state; each number advances it by a fixed odd constant.
    public private(set) var state: UInt64

    /// A generator that produces the same sequence for the same `seed`.
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        let value = Self.mix(state)
        state &+= Self.increment
        return value
    }

    /// The golden-ratio increment of the state.
    private static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The SplitMix64 finaliser of one value: spreads similar values (seeds, hashes) over the whole range.
    /// `mix(s)` is the first number a generator seeded with `s` returns.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ increment
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<1 from the top 53 bits of `value` (every such `Double` is equally likely).
    public static func unitInterval(_ value: UInt64) -> Double { Double(value >> 11) / Double(1 << 53) }
}
