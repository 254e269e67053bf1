import Testing
import Timekeeping
import UploadStatus

@Suite("Paths as text: every byte string round-trips")
struct PathBytesTests {
    @Test func utf8NamesAreTheirOwnText() {
        for name in ["a.txt", "videos/2024/clip.mp4", "café/naïve 日本.txt", "line\nbreak", "photo (deleted)"] {
            #expect(PathBytes.string(from: Array(name.utf8)) == name)
            #expect(PathBytes.bytes(of: name) == Array(name.utf8))
        }
    }

    @Test func aLatin1NameKeepsItsBytes() {
        let latin1: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".txt".utf8)
        let text = PathBytes.string(from: latin1)
        #expect(text == "caf\u{10FFE9}.txt")
        #expect(PathBytes.bytes(of: text) == latin1)
        #expect(PathBytes.components(of: "dir/" + text) == [Array("dir".utf8), latin1])
    }

    @Test func aNameHoldingTheEscapeScalarsThemselvesIsEscapedByteByByte() {
        let literal = Array("x\u{10FFE9}y".utf8)  // F4 8F BF A9 in the middle
        let text = PathBytes.string(from: literal)
        #expect(text.unicodeScalars.count == 6, "each of the four bytes stands alone")
        #expect(PathBytes.bytes(of: text) == literal)
        #expect(text != PathBytes.string(from: Array("x".utf8) + [0xE9] + Array("y".utf8)))
    }

    @Test func invalidSequencesAreOneEscapePerByte() {
        // A truncated sequence, an overlong slash, a surrogate, beyond U+10FFFF, stray continuation bytes.
        for bytes: [UInt8] in [[0xE2, 0x82], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80, 0xBF]] {
            let text = PathBytes.string(from: bytes)
            #expect(text.unicodeScalars.count == bytes.count)
            #expect(PathBytes.bytes(of: text) == bytes)
        }
    }

    @Test func randomByteStringsRoundTrip() {
        var generator = SplitMix64(seed: 14)
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 24)
            // Bytes biased towards the interesting ones: lead and continuation bytes, F4 8F BE/BF.
            let alphabet: [UInt8] = [0x41, 0x2E, 0x80, 0x8F, 0xA9, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF, 0xBE, 0xE9]
            let bytes = (0..<length).map { _ in
                generator.next() % 3 == 0 ? UInt8(truncatingIfNeeded: generator.next()) : alphabet[Int(generator.next() % UInt64(alphabet.count))]
            }
            let text = PathBytes.string(from: bytes)
            #expect(PathBytes.bytes(of: text) == bytes, "\(bytes)")
            if let valid = String(validating: bytes, as: UTF8.self), !valid.unicodeScalars.contains(where: { PathBytes.escapes.contains($0.value) }) {
                #expect(text == valid)
            }
        }
    }
}
