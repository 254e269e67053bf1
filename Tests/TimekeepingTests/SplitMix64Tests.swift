import Testing
import Timekeeping

@Suite("SplitMix64")
struct SplitMix64Tests {
    @Test("seed 0 gives the reference sequence")
    func referenceValues() {
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(generator.next() == 0x06C4_5D18_8009_454F)
    }

    @Test("the same seed gives the same numbers; another seed others")
    func reproducible() {
        var first = SplitMix64(seed: 42), second = SplitMix64(seed: 42), other = SplitMix64(seed: 43)
        let a = (0..<100).map { _ in first.next() }
        let b = (0..<100).map { _ in second.next() }
        let c = (0..<100).map { _ in other.next() }
        #expect(a == b)
        #expect(a != c)
        #expect(Set(a).count == 100)
    }

    @Test("mix is the first number of a generator with that seed, and spreads neighbours apart")
    func mix() {
        for seed: UInt64 in [0, 1, 2, 0xFFFF_FFFF_FFFF_FFFF, 0x1234_5678] {
            var generator = SplitMix64(seed: seed)
            #expect(SplitMix64.mix(seed) == generator.next())
        }
        #expect((SplitMix64.mix(1) ^ SplitMix64.mix(2)).nonzeroBitCount > 16)
    }

    @Test("works with the standard library's random APIs, reproducibly")
    func randomNumberGenerator() {
        var first = SplitMix64(seed: 7), second = SplitMix64(seed: 7)
        let a = (0..<20).map { _ in Int.random(in: 0..<1000, using: &first) }
        let b = (0..<20).map { _ in Int.random(in: 0..<1000, using: &second) }
        #expect(a == b)
        #expect(a.allSatisfy { (0..<1000).contains($0) })
    }

    @Test("unit interval numbers are in 0..<1")
    func unitInterval() {
        #expect(SplitMix64.unitInterval(0) == 0)
        #expect(SplitMix64.unitInterval(.max) < 1)
        #expect(SplitMix64.unitInterval(1 << 63) == 0.5)
    }
}
