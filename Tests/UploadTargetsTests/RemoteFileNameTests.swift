import Foundation
import MediaManagerAPI
import Testing
import Timekeeping

@Suite("Local names mapped to names the service takes")
struct RemoteFileNameTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func namesTheServiceTakesAreLeftAlone() {
        for name in ["a.txt", "clip (1).mp4", "photo (deleted)", "日本語.txt", "naïve café", ".hidden", "...", String(repeating: "é", count: 200)] {
            #expect(RemoteFileName.encode(Self.bytes(name)) == name)
        }
    }

    /// Local names (bytes) and their remote names.
    static let mapped: [(local: [UInt8], remote: String)] = {
        var cases: [(local: [UInt8], remote: String)] = []
        cases.append((Array("line\nbreak.txt".utf8), "line\u{240A}break.txt"))
        cases.append((Array("tab\there".utf8) + [0x7F], "tab\u{2409}here\u{2421}"))
        cases.append((Array("caf".utf8) + [0xE9] + Array(".txt".utf8), "caf\u{201B}E9.txt"))
        cases.append((Array("\u{202E}evil\u{202C}.txt".utf8), "\u{201B}E2\u{201B}80\u{201B}AEevil\u{201B}E2\u{201B}80\u{201B}AC.txt"))
        cases.append((Array("x\u{85}y".utf8), "x\u{201B}C2\u{201B}85y"))
        cases.append((Array("it\u{201B}s".utf8), "it\u{201B}\u{201B}s"))
        cases.append((Array("a\u{2400}b".utf8), "a\u{201B}\u{2400}b"))
        cases.append((Array("..".utf8), "\u{201B}2E\u{201B}2E"))
        return cases
    }()

    @Test(arguments: 0..<mapped.count)
    func namesTheServiceRefusesAreMappedAndComeBack(index: Int) {
        let (local, remote) = Self.mapped[index]
        #expect(RemoteFileName.encode(local) == remote)
        #expect(RemoteFileName.isValid(remote))
        #expect(RemoteFileName.decode(remote) == local)
    }

    @Test func longNamesAreShortenedWithAHashAndKeepTheirExtension() {
        let long = Self.bytes(String(repeating: "x", count: 251) + ".mp4")  // 255 bytes, NAME_MAX
        let remote = RemoteFileName.encode(long)
        #expect(remote.unicodeScalars.count == RemoteFileName.maximumLength)
        #expect(remote.hasSuffix(".mp4"))
        #expect(remote.contains("\u{201B}~"))
        #expect(RemoteFileName.isValid(remote))
        #expect(RemoteFileName.decode(remote) == nil, "a shortened name does not decode; the real one is in the sidecar")
        // Two names that differ only past the cut differ remotely too.
        let other = Self.bytes(String(repeating: "x", count: 250) + "y.mp4")
        #expect(RemoteFileName.encode(other) != remote)
        // Exactly at the limit: nothing to shorten.
        let limit = String(repeating: "z", count: 200)
        #expect(RemoteFileName.encode(Self.bytes(limit)) == limit)
    }

    @Test func escapesAreNeverCutInHalf() {
        // 90 Latin-1 bytes become 270 scalars: the shortened name keeps whole escapes only.
        let local = [UInt8](repeating: 0xE9, count: 90) + Self.bytes(".txt")
        let remote = RemoteFileName.encode(local)
        let kept = remote.components(separatedBy: "\u{201B}~")[0]
        #expect(kept.unicodeScalars.count % 3 == 0)
        #expect(RemoteFileName.decode(kept) == [UInt8](repeating: 0xE9, count: kept.unicodeScalars.count / 3))
        #expect(remote.hasSuffix(".txt") && RemoteFileName.isValid(remote))
    }

    /// The round-trip property over random names: every remote name is valid, and one that was not
    /// shortened decodes to the local bytes.
    @Test func randomNamesAreValidAndRoundTrip() {
        var generator = SplitMix64(seed: 200)
        let pieces: [[UInt8]] = [
            Array("a".utf8), Array(".".utf8), Array(" ".utf8), [0x0A], [0x7F], [0xE9], [0xFF], [0xC3, 0xA9],
            Array("\u{201B}".utf8), Array("\u{2400}".utf8), Array("\u{2421}".utf8), Array("\u{202E}".utf8),
            Array("\u{2067}".utf8), Array("\u{200F}".utf8), Array("\u{85}".utf8), Array("日".utf8), Array("👍🏽".utf8),
            [0xE2, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], Array("2E".utf8), Array("~".utf8),
        ]
        for _ in 0..<5_000 {
            let count = 1 + Int(generator.next() % 120)
            var local: [UInt8] = []
            for _ in 0..<count { local += pieces[Int(generator.next() % UInt64(pieces.count))] }
            let remote = RemoteFileName.encode(local)
            #expect(RemoteFileName.isValid(remote), "\(local)")
            #expect(remote.unicodeScalars.count <= 200)
            if let decoded = RemoteFileName.decode(remote) {
                #expect(decoded == local, "\(local) → \(remote.debugDescription)")
            } else {
                #expect(remote.contains("\u{201B}~"), "only shortened names do not decode: \(remote.debugDescription)")
            }
        }
    }
}
