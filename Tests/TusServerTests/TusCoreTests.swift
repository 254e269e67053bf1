import CCRC32
import Foundation
import Testing
import TusCore

/// The shared tus vocabulary: header value parsing and checksums.
@Suite struct TusCoreTests {
    @Test func metadataRoundTrip() throws {
        var m = UploadMetadata()
        try m.setValue("photo 1.jpg", forKey: "filename")
        try m.setValue("", forKey: "empty")
        try m.setValue("image/jpeg", forKey: "contentType")
        let parsed = try UploadMetadata.parse(m.headerValue)
        #expect(parsed == m)
        #expect(parsed["filename"] == "photo 1.jpg")
        #expect(parsed["empty"] == "")
        #expect(parsed.keys == ["filename", "empty", "contentType"])
        #expect(try UploadMetadata.parse("").isEmpty)
        #expect(try UploadMetadata.parse("a ,b dGVzdA==")["a"] == "")
    }

    @Test(arguments: ["a b c", "a,a", "k !!", "k dGVzdA", ",", "a dGVzdA==,a eA=="])
    func metadataRejects(_ header: String) {
        #expect(throws: UploadMetadataError.self) { try UploadMetadata.parse(header) }
    }

    @Test func metadataRejectsBadKeys() {
        var m = UploadMetadata()
        #expect(throws: UploadMetadataError.self) { try m.setValue("x", forKey: "a b") }
        #expect(throws: UploadMetadataError.self) { try m.setValue("x", forKey: "a,b") }
        #expect(throws: UploadMetadataError.self) { try m.setValue("x", forKey: "") }
        #expect(throws: UploadMetadataError.self) { try m.setValue("x", forKey: "a\u{0}") }
    }

    /// Found by the `upload-metadata` fuzz target (Fuzz/corpus/upload-metadata/regression-key-starting-with-joiner):
    /// the parser split at characters, and a comma followed by a joiner or combining mark is one character, so
    /// metadata whose second key starts with one could be written but not read back.
    @Test("keys starting with a joiner, a combining mark or ending with a prepended mark read back", arguments: [
        "\u{200D}", "\u{301}k", "k\u{600}", "\u{FE0F}",
    ])
    func metadataKeysWithExtendingScalars(key: String) throws {
        for value in ["", "photo.jpg"] {
            var m = UploadMetadata()
            try m.setValue("x", forKey: "first")
            try m.setValue(value, forKey: key)
            try m.setValue("y", forKey: "last")
            let parsed = try UploadMetadata.parse(m.headerValue)
            #expect(parsed == m)
            #expect(parsed[key] == value)
        }
    }

    @Test func byteCounts() throws {
        #expect(try UploadOffset.parse("0") == 0)
        #expect(try UploadLength.parse("9223372036854775807") == Int64.max)
        // Found by the `tus-headers` fuzz target (Fuzz/corpus/tus-headers/regression-leading-zeros): leading zeros
        // past 19 digits were refused as "too large" although the value fits.
        #expect(try UploadOffset.parse(String(repeating: "0", count: 120) + "800") == 800)
        #expect(try UploadLength.parse("00000000000000000000") == 0)
        for bad in ["-1", "+1", "1e3", "", " 1", "1 ", "9223372036854775808", "99999999999999999999", "0x10", "١"] {
            #expect(throws: TusHeaderError.self, "\(bad)") { try UploadOffset.parse(bad) }
        }
    }

    @Test func checksums() throws {
        let abc = Data("abc".utf8)
        #expect(ChecksumAlgorithm.sha1.digest(of: abc).base64EncodedString() == "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=")
        #expect(ChecksumAlgorithm.md5.digest(of: abc).map { String(format: "%02x", $0) }.joined() == "900150983cd24fb0d6963f7d28e17f72")
        #expect(ChecksumAlgorithm.sha256.digest(of: abc).lowercaseHex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var crc = CRC32()
        crc.update(Data("12345".utf8))
        crc.update(Data("6789".utf8))
        #expect(crc.value == 0xCBF4_3926)
        var hasher = ChecksumAlgorithm.sha1.makeHasher()
        hasher.update(Data("a".utf8))
        hasher.update(Data("bc".utf8))
        #expect(hasher.finalize() == ChecksumAlgorithm.sha1.digest(of: abc))

        let parsed = try UploadChecksum.parse("sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=")
        #expect(parsed.algorithm == .sha1)
        #expect(parsed.matches(ChecksumAlgorithm.sha1.digest(of: abc)))
        #expect(throws: UploadChecksumError.unsupportedAlgorithm("sha512")) { try UploadChecksum.parse("sha512 AAAA") }
        #expect(throws: UploadChecksumError.self) { try UploadChecksum.parse("sha1") }
        #expect(throws: UploadChecksumError.self) { try UploadChecksum.parse("sha1 ***") }
    }

    /// The folding CRC-32 equals zlib's for every length around its 16- and 64-byte steps, any alignment and any
    /// starting value, and for a large buffer; it is the one used where the CPU has carry-less multiplication.
    @Test func fastCRC32EqualsZlib() throws {
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<(3 << 20) + 77).map { _ in UInt8.random(in: 0...255, using: &random) }
        bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!
            for length in 0...300 {
                for offset in [0, 1, 5, 15] {
                    let start = UInt32.random(in: 0...UInt32.max, using: &random)
                    let fast = tusfs_crc32(start, base + offset, length)
                    let zlib = tusfs_crc32_zlib(start, base + offset, length)
                    if fast != zlib { Issue.record("length \(length) offset \(offset): \(fast) != \(zlib)") }
                }
            }
            #expect(tusfs_crc32(0, base + 3, buffer.count - 3) == tusfs_crc32_zlib(0, base + 3, buffer.count - 3))
            // Split anywhere, continued: the same CRC.
            let split = 1_000_003
            let whole = tusfs_crc32(0, base, buffer.count)
            #expect(tusfs_crc32(tusfs_crc32(0, base, split), base + split, buffer.count - split) == whole)
        }
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        #expect(CRC32.isAccelerated == (flags.contains("pclmulqdq") && flags.contains("sse4_1")))
    }

    /// Hashing a body in many pieces of odd sizes (as it arrives from the network) gives the one-shot digest,
    /// and both equal reference values (Python's hashlib and zlib).
    @Test(arguments: [
        (ChecksumAlgorithm.sha1, "08bd67c995209e295164b8ba86d94633357fb942"),
        (ChecksumAlgorithm.md5, "3637f1663796598381fb9c6aedff86a4"),
        (ChecksumAlgorithm.crc32, "2923ac13"),
        (ChecksumAlgorithm.sha256, "9acc7dcb14970d0e293551e23dd238fe7117a702ba747b7fcf68290d674fe7b4"),
    ])
    func incrementalHashingEqualsOneShot(_ algorithm: ChecksumAlgorithm, _ expected: String) {
        let bytes = (0..<100_003).map { i in UInt8(truncatingIfNeeded: (i &* 31 &+ 7) ^ (i >> 8)) }
        let hex = { (d: Data) in d.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(algorithm.digest(of: bytes)) == expected)

        let sizes = [0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 4096, 4097, 0, 12_345, 2]
        var hasher = algorithm.makeHasher()
        var position = 0
        var step = 0
        bytes.withUnsafeBytes { raw in
            while position < raw.count {
                let end = min(raw.count, position + sizes[step % sizes.count])
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[position..<end]))
                position = end
                step += 1
            }
        }
        #expect(hex(hasher.finalize()) == expected)

        // Feeding DataProtocol pieces (a slice of Data, an Array) gives the same.
        var mixed = algorithm.makeHasher()
        mixed.update(Data(bytes[0..<50_001]).dropFirst(1))
        mixed.update(Array(bytes[50_001...]))
        var prefixed = algorithm.makeHasher()
        prefixed.update(bytes[1...])
        #expect(mixed.finalize() == prefixed.finalize())
    }

    @Test func extensionsList() {
        #expect(TusExtension.parseList("creation, termination,unknown") == [.creation, .termination])
        #expect(TusExtension.headerValue([.creation, .checksum]) == "creation,checksum")
    }
}
