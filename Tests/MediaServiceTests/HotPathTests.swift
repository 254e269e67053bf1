import Foundation
import MediaManagerAPI
import TestSupport
import Testing

@testable import MediaService

/// The hand-written pieces of the upload path (JSON answers, base64url, ids, row coding, raw SQL) against what
/// they replaced: the same bytes, the same rows, the same answers.
@Suite struct HotPathTests {
    /// Strings with everything JSON escapes, slashes, non-ASCII and emoji.
    static let awkward = [
        "", "plain", "a/b/c", "quote \" and \\ backslash", "tab\tnew\nline\r", "\u{0}\u{1}\u{8}\u{b}\u{c}\u{1f}\u{7f}",
        "ünïcödé ✓ 🎉", "http://127.0.0.1:8080/media/x~mv2.jpg", "\u{2028}\u{2029}", "<script>&amp;</script>",
    ]

    static func encoderJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func handJSON<T: HandWrittenJSON>(_ value: T) async throws -> String {
        String(buffer: try JSON.body(value))
    }

    static func descriptor(_ text: String, full: Bool) -> MediaManagerAPI.FileDescriptor {
        full
            ? FileDescriptor(
                id: "abc123_\(text)", displayName: text, url: "http://h/media/\(text)", parentFolderId: text, hash: text,
                sizeInBytes: "12", isPrivate: text.count % 2 == 0, mediaType: .init(rawValue: text),
                operationStatus: .init(rawValue: text), sourceUrl: text, thumbnailUrl: text, labels: [text, "x", text],
                createdDate: text, updatedDate: text, siteId: text, state: .init(rawValue: text))
            : FileDescriptor(id: text)
    }

    @Test func handWrittenJSONIsWhatJSONEncoderWrites() async throws {
        for text in Self.awkward {
            for full in [true, false] {
                let one = FileDescriptorResponse(file: Self.descriptor(text, full: full))
                #expect(try await Self.handJSON(one) == (try Self.encoderJSON(one)))
                let many = GetFileDescriptorsResponse(files: [Self.descriptor(text, full: full), Self.descriptor("b", full: !full)])
                #expect(try await Self.handJSON(many) == (try Self.encoderJSON(many)))
            }
            let url = GenerateFileUploadURLResponse(uploadUrl: text)
            #expect(try await Self.handJSON(url) == (try Self.encoderJSON(url)))
        }
        for byte in UInt8(0)..<128 {
            let text = "x" + String(UnicodeScalar(byte)) + "y"
            let url = GenerateFileUploadURLResponse(uploadUrl: text)
            #expect(try await Self.handJSON(url) == (try Self.encoderJSON(url)), "byte \(byte)")
        }
        let empty = GetFileDescriptorsResponse(files: [])
        #expect(try await Self.handJSON(empty) == (try Self.encoderJSON(empty)))
        var withMedia = Self.descriptor("m", full: true)
        withMedia.media = .object(["image": .object(["width": .number(3)])])
        let media = FileDescriptorResponse(file: withMedia)
        #expect(try await Self.handJSON(media) == (try Self.encoderJSON(media)))
    }

    @Test func base64URLMatchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let data = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let expected = data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            let encoded = Base64URL.encode(data)
            #expect(encoded == expected)
            #expect(Base64URL.decode(encoded) == data)
            #expect(Base64URL.decode(Substring(encoded)) == data)
        }
        for bad in ["A", "AAAAA", "ab+c", "ab/c", "ab=", "a.b", "ü", "AB C"] {
            #expect(Base64URL.decode(bad) == nil, "\(bad)")
        }
        #expect(Base64URL.decode("AB") == nil)  // leftover bits set: no encoder writes that
        #expect(Base64URL.decode("AA") == Data([0]))
    }

    @Test func signedTokensVerifyAndRefuseTampering() throws {
        let signer = URLSigner(keyBytes: Data((0..<32).map { UInt8($0) }))
        let claims = DownloadClaims(fileId: "f/ü\"", exp: 1_700_000_000.25)
        let token = signer.sign(claims)
        let back = try signer.verify(token, as: DownloadClaims.self)
        #expect(back.fileId == claims.fileId && back.exp == claims.exp)
        let other = URLSigner(keyBytes: Data(repeating: 7, count: 32))
        for bad in [token + "A", "A" + token, token.replacingOccurrences(of: ".", with: ".."), token + ".x", "", ".", token.split(separator: ".")[0] + "."] {
            #expect(throws: MediaServiceError.self) { try signer.verify(String(bad), as: DownloadClaims.self) }
        }
        #expect(throws: MediaServiceError.self) { try other.verify(token, as: DownloadClaims.self) }
    }

    @Test func fileIDsKeepTheirForm() {
        // The site prefix of the old implementation: base64url, lowercased, hex digits only, 6 of them.
        for site in ["tusfs-local-site", "", "x", "ZZZZZZZZ", "site with spaces ü"] {
            let old = String(Base64URL.encode(Data(site.utf8)).lowercased().filter(\.isHexDigit).prefix(6))
                .padding(toLength: 6, withPad: "0", startingAt: 0)
            #expect(FileID.sitePrefix(site) == old, "\(site)")
        }
        let id = FileID.make(siteID: "tusfs-local-site", fileName: "photo.JPEG")
        #expect(id.hasSuffix("~mv2.jpeg"))
        #expect(FileID.contentName(of: id)?.count == 32)
        #expect(FileID.make(siteID: "s", fileName: "noext").hasSuffix("~mv2.bin"))
        #expect(FileID.make(siteID: "s", fileName: "a.tar-gz").hasSuffix("~mv2.bin"))
        let hex = String(repeating: "0a", count: 16)
        #expect(FileID.contentName(of: "abcDEF_\(hex)") == hex)
        #expect(FileID.contentName(of: "abcdef_\(hex)~mv2.jpg") == hex)
        #expect(FileID.contentName(of: "abcdef_\(hex)~mv2.") == hex)
        for bad in [
            "", "abcdef_", "abcdeg_\(hex)", "abcde_\(hex)", "abcdef-\(hex)", "abcdef_\(hex.uppercased())", "abcdef_\(hex)x",
            "abcdef_\(hex)~mv2.j/g", "abcdef_\(hex)~mv2.ü", "abcdef_\(hex.dropLast())", "../../_\(hex)", "ａbcdef_\(hex)",
        ] {
            #expect(FileID.contentName(of: bad) == nil, "\(bad)")
        }
        for _ in 0..<50 {
            let random = RandomHex.make(bytes: 16)
            #expect(random.utf8.count == 32 && random.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) })
            #expect(FolderID.isValid(FolderID.make()))
        }
        #expect(RandomHex.make(bytes: 3).count == 6)
        #expect(RandomHex.make(bytes: 0).isEmpty)
    }

    @Test func fileRecordsSurviveTheDatabase() async throws {
        let dir = try TemporaryDirectory("hotpath")
        defer { dir.remove() }
        let database = try MediaDatabase(path: dir.appending("media.sqlite"))
        var full = FileRecord(
            id: FileID.make(siteID: "s", fileName: "a.txt"), displayName: "a \"b\" / ü", parentFolderId: SpecialFolder.mediaRoot,
            hash: "h", sizeInBytes: 1 << 40, isPrivate: true, mediaType: "DOCUMENT", mimeType: "text/plain",
            operationStatus: "PENDING", failureReason: "why", sourceUrl: "http://x/y", labels: Self.awkward,
            externalOrigin: "origin", externalIds: ["1", "2/3"], createdAt: 1_700_000_000.123, updatedAt: 1_700_000_001.5,
            state: "OK", parentBeforeTrash: "p")
        let bare = FileRecord(
            id: FileID.make(siteID: "s", fileName: "b"), displayName: "b", parentFolderId: "p", hash: nil, sizeInBytes: 0,
            isPrivate: false, mediaType: "OTHER", mimeType: "application/octet-stream", operationStatus: "READY",
            failureReason: nil, sourceUrl: nil, labels: [], externalOrigin: nil, externalIds: [], createdAt: 0, updatedAt: 0,
            state: "OK", parentBeforeTrash: nil)
        try await database.insert(full)
        #expect(try await database.completeUpload(nonce: "n1", uploadID: nil, file: bare))
        #expect(try await database.completeUpload(nonce: "n1", uploadID: nil, file: bare) == false)
        #expect(try await database.uploadURL("n1")?.fileId == bare.id)
        #expect(try await database.file(full.id).map(Self.fields) == Self.fields(full))
        #expect(try await database.file(bare.id).map(Self.fields) == Self.fields(bare))
        let many = try await database.files(ids: [bare.id, "missing", full.id])
        #expect(many.map { $0?.id } == [bare.id, nil, full.id])
        #expect(try await database.files(status: .pending).map(\.id) == [full.id])  // the query interface reads them too

        let changed = try await database.modifyFile(full.id) { file in
            file.labels = []
            file.hash = nil
            return true
        }
        full.labels = []
        full.hash = nil
        #expect(changed.map { Self.fields($0.file) } == Self.fields(full))
        #expect(try await database.file(full.id).map(Self.fields) == Self.fields(full))
        #expect(try await database.modifyFile("missing") { _ in true } == nil)
        var ghost = bare
        ghost.id = "ghost"
        await #expect(throws: (any Error).self) { try await database.update(ghost) }

        // Upload-URL claims as before: a token claimed once; a claimed URL completed once.
        #expect(try await database.claimUploadToken(nonce: "n2", uploadID: "u2"))
        #expect(try await database.claimUploadToken(nonce: "n2", uploadID: "u3") == false)
        var third = bare
        third.id = FileID.make(siteID: "s", fileName: "c")
        #expect(try await database.completeUpload(nonce: "n2", uploadID: "u2", file: third))
        #expect(try await database.uploadURL("n2").map { [$0.uploadId, $0.fileId] } == ["u2", third.id])

        let path = try await database.folderPath(["a", "b"], under: SpecialFolder.mediaRoot)
        #expect(try await database.folderPath(["a", "b"], under: SpecialFolder.mediaRoot) == path)
        let a = try await database.folderPath(["a"], under: SpecialFolder.mediaRoot)
        #expect(try await database.folder(path)?.parentFolderId == a)
        #expect(try await database.folderPath([], under: SpecialFolder.mediaRoot) == SpecialFolder.mediaRoot)
        #expect(try await database.folders(parent: SpecialFolder.mediaRoot, offset: 0, limit: 10, descending: false).count == 1)
    }

    /// Every stored field, comparable.
    static func fields(_ f: FileRecord) -> [String] {
        [
            f.id, f.displayName, f.parentFolderId, f.hash ?? "nil", String(f.sizeInBytes), String(f.isPrivate), f.mediaType, f.mimeType,
            f.operationStatus, f.failureReason ?? "nil", f.sourceUrl ?? "nil", f.labels.description, f.externalOrigin ?? "nil",
            f.externalIds.description, String(f.createdAt), String(f.updatedAt), f.state, f.parentBeforeTrash ?? "nil",
        ]
    }
}
