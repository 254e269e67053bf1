import Foundation
import Testing
import TusCore

@testable import TusClient

/// Small pure pieces: OPTIONS parsing and metadata.
@Suite("protocol details")
struct ProtocolDetailsTests {
    @Test("OPTIONS headers become capabilities")
    func capabilities() {
        let headers = [
            "Tus-Version": "1.0.0,0.2.2", "Tus-Extension": "creation, creation-with-upload,checksum,termination",
            "Tus-Max-Size": "1073741824", "Tus-Checksum-Algorithm": "SHA1,md5",
        ]
        let parsed = TusServerCapabilities.parse { headers[$0] }
        #expect(parsed.versions == ["1.0.0", "0.2.2"])
        #expect(parsed.supports("creation-with-upload"))
        #expect(parsed.maxSize == 1 << 30)
        #expect(parsed.checksumAlgorithm == .sha1)
        #expect(TusServerCapabilities.parse { _ in nil }.checksumAlgorithm == nil)
    }

    @Test("the client takes CRC-32 when the server lists it, else SHA-1, else SHA-256, else MD5; none without the extension")
    func checksumChoice() {
        func choice(_ extensions: String, _ algorithms: String) -> ChecksumAlgorithm? {
            let headers = ["Tus-Version": "1.0.0", "Tus-Extension": extensions, "Tus-Checksum-Algorithm": algorithms]
            return TusServerCapabilities.parse { headers[$0] }.checksumAlgorithm
        }
        #expect(choice("creation,checksum", "sha1,md5,crc32") == .crc32)
        #expect(choice("creation,checksum", "MD5, SHA1") == .sha1)
        #expect(choice("creation,checksum", "md5") == .md5)
        #expect(choice("creation,checksum", "md5,sha256") == .sha256)
        #expect(choice("creation,checksum", "sha512") == nil)
        #expect(choice("creation", "sha1,crc32") == nil)
    }

    /// Found by the `tus-headers` fuzz target (Fuzz/corpus/tus-headers/regression-negative-max-size).
    @Test("a Tus-Max-Size that is not a non-negative number is ignored", arguments: ["-120", "+5", "1e3", "", "x"])
    func badMaxSize(value: String) {
        #expect(TusServerCapabilities.parse { $0 == "Tus-Max-Size" ? value : nil }.maxSize == nil)
    }

    @Test("metadata is encoded with TusCore and bad keys are refused before any request")
    func metadata() throws {
        let header = try TusMetadataEncoding.encode(["filename": "a b.txt", "empty": ""])
        #expect(header.split(separator: ",").sorted() == ["empty", "filename YSBiLnR4dA=="])
        #expect(throws: TusError.self) { try TusMetadataEncoding.encode(["bad key": "x"]) }
    }
}
