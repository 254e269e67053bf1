import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MediaManagerClient
import TestSupport
import Testing

@Suite("MIME type detection")
struct MimeTypeDetectorTests {
    let detector = MimeTypeDetector.shared
    /// The first bytes of a PNG file (signature and IHDR chunk header), enough for libmagic.
    static let pngHeader: [UInt8] = [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
        0, 0, 0, 0x1F, 0x15, 0xC4, 0x89,
    ]

    @Test("extensions come from /etc/mime.types",
        arguments: [("a.jpg", "image/jpeg"), ("b.PNG", "image/png"), ("c.mp4", "video/mp4"), ("d.pdf", "application/pdf"),
            ("e.json", "application/json"), ("f.mp3", "audio/mpeg")])
    func byExtension(name: String, type: String) {
        #expect(detector.typeForExtension(of: name) == type)
    }

    @Test("content decides when the extension is unknown or missing")
    func byContent() throws {
        let dir = try TemporaryDirectory("mime")
        defer { dir.remove() }
        try Data(Self.pngHeader).write(to: URL(fileURLWithPath: dir.appending("picture")))
        try Data("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n".utf8).write(to: URL(fileURLWithPath: dir.appending("doc.unknownext")))
        #expect(detector.mimeType(ofFile: dir.appending("picture")) == "image/png")
        #expect(detector.mimeType(ofFile: dir.appending("doc.unknownext")) == "application/pdf")
    }

    @Test("content overrides a misleading image extension, not a more specific one")
    func misleadingExtension() throws {
        let dir = try TemporaryDirectory("mime")
        defer { dir.remove() }
        try Data(Self.pngHeader).write(to: URL(fileURLWithPath: dir.appending("photo.jpg")))
        try Data("{\"a\": 1}\n".utf8).write(to: URL(fileURLWithPath: dir.appending("data.json")))
        try Data("name,size\nx,1\n".utf8).write(to: URL(fileURLWithPath: dir.appending("table.csv")))
        #expect(detector.mimeType(ofFile: dir.appending("photo.jpg")) == "image/png")
        #expect(detector.mimeType(ofFile: dir.appending("data.json")) == "application/json")
        #expect(detector.mimeType(ofFile: dir.appending("table.csv")) == "text/csv")
    }

    @Test("a known extension gets libmagic's signature checks only: text is typed by the name, a PNG or PDF by its content")
    func knownExtensionSkipsTextChecks() throws {
        let dir = try TemporaryDirectory("mime")
        defer { dir.remove() }
        let script = Data("#!/bin/sh\necho hello\n".utf8)
        try script.write(to: URL(fileURLWithPath: dir.appending("run")))
        try script.write(to: URL(fileURLWithPath: dir.appending("notes.txt")))
        try Data(Self.pngHeader).write(to: URL(fileURLWithPath: dir.appending("picture.txt")))
        try Data("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n".utf8).write(to: URL(fileURLWithPath: dir.appending("paper.txt")))
        // No extension: libmagic's text checks tell a script.
        #expect(detector.mimeType(ofFile: dir.appending("run")) == "text/x-shellscript")
        #expect(detector.typeFromContent(ofFile: dir.appending("run")) == "text/x-shellscript")
        // The cheaper check does not look at text at all; with an extension the name says what text it is.
        #expect(detector.typeFromContent(ofFile: dir.appending("run"), signaturesOnly: true) == "application/octet-stream")
        #expect(detector.mimeType(ofFile: dir.appending("notes.txt")) == "text/plain")
        #expect(detector.mimeType(ofFile: dir.appending("picture.txt")) == "image/png")
        #expect(detector.mimeType(ofFile: dir.appending("paper.txt")) == "application/pdf")
    }

    @Test("unknown binary content falls back to application/octet-stream; an upload name overrides the path's")
    func fallback() throws {
        let dir = try TemporaryDirectory("mime")
        defer { dir.remove() }
        try Data([0x00, 0x13, 0x37, 0xFF, 0x00, 0x42]).write(to: URL(fileURLWithPath: dir.appending("blob")))
        #expect(detector.mimeType(ofFile: dir.appending("blob")) == "application/octet-stream")
        #expect(detector.mimeType(ofFile: dir.appending("blob"), fileName: "clip.webm") == "video/webm")
    }

    /// Writes a PNG at `path` and prepares its type; then, behind the detector's back, puts other bytes of the
    /// same size there with the same times (to the nanosecond): only a prepared answer can still say PNG.
    static func preparePNGThenSwapItsBytes(at path: String, detector: MimeTypeDetector, fileName: String? = nil) async throws {
        try Data(pngHeader).write(to: URL(fileURLWithPath: path))
        var attributes = stat()
        #expect(stat(path, &attributes) == 0)
        detector.prepare(ofFile: path, fileName: fileName)
        try await Task.sleep(for: .milliseconds(300))
        try Data(repeating: 0x41, count: pngHeader.count).write(to: URL(fileURLWithPath: path))
        var times = [attributes.st_atim, attributes.st_mtim]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
    }

    @Test("a type prepared ahead is used while the file is unchanged, and worked out again once it changed")
    func preparedAhead() async throws {
        let dir = try TemporaryDirectory("mime")
        defer { dir.remove() }
        let detector = MimeTypeDetector()
        let path = dir.appending("picture")
        try await Self.preparePNGThenSwapItsBytes(at: path, detector: detector)
        #expect(detector.mimeType(ofFile: path) == "image/png")
        // Taken once: the next call reads the content.
        #expect(detector.mimeType(ofFile: path) != "image/png")

        // Prepared, then changed (size and time): the content now is what counts.
        try Data(Self.pngHeader).write(to: URL(fileURLWithPath: path))
        detector.prepare(ofFile: path)
        try await Task.sleep(for: .milliseconds(300))
        try Data("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(detector.mimeType(ofFile: path) == "application/pdf")
    }

    @Test("a type prepared ahead is found through any path to the same file, such as the upload's /proc/self/fd/N")
    func preparedAheadFoundThroughAnotherPath() async throws {
        let dir = try TemporaryDirectory("mime")
        defer { dir.remove() }
        let detector = MimeTypeDetector()
        let path = dir.appending("picture")
        try await Self.preparePNGThenSwapItsBytes(at: path, detector: detector, fileName: "upload.bin")
        let descriptor = open(path, O_RDONLY)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        #expect(detector.mimeType(ofFile: "/proc/self/fd/\(descriptor)", fileName: "upload.bin") == "image/png")
    }

    @Test("rsync's temp file .NAME.XXXXXX is typed by NAME's extension (its upload may start before the rename)",
        arguments: [(".clip.mp4.Ab12Cd", "clip.mp4"), (".a.b.jpg.000000", "a.b.jpg"), ("clip.mp4", "clip.mp4"),
            (".clip.mp4.Ab12C", ".clip.mp4.Ab12C"), ("x.clip.mp4.Ab12Cd", "x.clip.mp4.Ab12Cd"), (".mp4.Ab-2Cd", ".mp4.Ab-2Cd")])
    func rsyncTempNames(name: String, typedAs: String) throws {
        #expect(MimeTypeDetector.nameBeforeRename(name) == typedAs)
        let dir = try TemporaryDirectory("mime")
        defer { dir.remove() }
        let path = dir.appending(name)
        try Data(repeating: 0, count: 64).write(to: URL(fileURLWithPath: path))
        #expect(detector.mimeType(ofFile: path) == (detector.typeForExtension(of: typedAs) ?? MimeTypeDetector.fallback))
    }
}
