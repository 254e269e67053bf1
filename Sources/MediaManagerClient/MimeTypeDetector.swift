import CMagic
import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Finds a file's MIME type from well-kept sources, not a table of our own.
///
/// 1. The extension, looked up in the system's `mime.types` (Debian's `media-types` package keeps
///    `/etc/mime.types` up to date with the IANA registry).
/// 2. The content, from libmagic, when the extension is unknown, or when the content clearly says otherwise:
///    libmagic recognises image, audio, video and PDF files by their signatures, so a PNG named `photo.jpg`
///    is sent as `image/png`. For everything else the extension wins, since libmagic only sees containers
///    (a `.docx` is "a zip file") or generic text.
/// 3. `application/octet-stream` when neither knows.
public final class MimeTypeDetector: Sendable {
    /// The type sent when nothing better is known.
    public static let fallback = "application/octet-stream"

    private let byExtension: [String: String]
    private let magic: MagicCookie?
    /// libmagic without its text checks, for files whose extension is known: only the signatures of binary
    /// formats (and SVG) can change the answer then, and they do not need the text checks, which cost a text
    /// file about a millisecond (0.2 ms without them; a source tree is mostly text files).
    private let signatures: MagicCookie?
    /// Answers worked out ahead by `prepare`, by file (device and inode) and name, with the file's version at
    /// the time: a later call finds the answer through any path to the same file (a rename, `/proc/self/fd/N`).
    private let prepared = Mutex<[PreparedKey: (identity: FileIdentity, type: String)]>([:])
    private let preparing = DispatchQueue(label: "tusfs.mime-types", qos: .utility)
    private let queued = Atomic<Int>(0)
    /// Bound of both the queue of files to prepare and the answers kept.
    private static let preparedLimit = 10_000

    /// - Parameter mimeTypesFiles: `mime.types` files to read, first match wins.
    public init(mimeTypesFiles: [String] = ["/etc/mime.types"]) {
        var table: [String: String] = [:]
        for path in mimeTypesFiles {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            for (ext, type) in Self.parseMimeTypes(text) where table[ext] == nil { table[ext] = type }
        }
        byExtension = table
        magic = MagicCookie()
        signatures = MagicCookie(extraFlags: MAGIC_NO_CHECK_TEXT)
    }

    /// A shared detector, loaded on first use.
    public static let shared = MimeTypeDetector()

    /// The MIME type for a file name by its extension alone, if `mime.types` knows it.
    public func typeForExtension(of fileName: String) -> String? {
        let ext = (fileName as NSString).pathExtension.lowercased()
        guard !ext.isEmpty else { return nil }
        return byExtension[ext]
    }

    /// The MIME type libmagic reads from the file's content, if it can tell. With `signaturesOnly`, text
    /// content is not told apart (a text file gives `application/octet-stream`), at a fraction of the cost.
    public func typeFromContent(ofFile path: String, signaturesOnly: Bool = false) -> String? {
        (signaturesOnly ? signatures : magic)?.mimeType(ofFile: path)
    }

    /// Works out `mimeType(ofFile:fileName:)` on a thread of its own and keeps the answer for the next call
    /// for this file, as long as it has not changed by then. libmagic takes a few hundred microseconds a
    /// file; a mount calls this when a file is closed, so the work is done while the file waits for its
    /// write-back delay rather than while uploads wait for it.
    public func prepare(ofFile path: String, fileName: String? = nil) {
        guard queued.add(1, ordering: .relaxed).newValue <= Self.preparedLimit else {
            queued.subtract(1, ordering: .relaxed)
            return
        }
        preparing.async { [self] in
            defer { queued.subtract(1, ordering: .relaxed) }
            guard let before = FileIdentity(path) else { return }
            let type = detect(path, fileName: fileName)
            guard FileIdentity(path) == before else { return }
            prepared.withLock { answers in
                if answers.count >= Self.preparedLimit { answers.removeAll() }
                answers[PreparedKey(before, fileName: fileName ?? Self.lastComponent(of: path))] = (before, type)
            }
        }
    }

    /// The MIME type to declare for the file at `path`, uploaded under `fileName` (default: the path's last part).
    public func mimeType(ofFile path: String, fileName: String? = nil) -> String {
        if let identity = FileIdentity(path),
            let answer = prepared.withLock({ $0.removeValue(forKey: PreparedKey(identity, fileName: fileName ?? Self.lastComponent(of: path))) }),
            identity == answer.identity
        {
            return answer.type
        }
        return detect(path, fileName: fileName)
    }

    private static func lastComponent(of path: String) -> String { (path as NSString).lastPathComponent }

    private func detect(_ path: String, fileName: String?) -> String {
        let name = Self.nameBeforeRename(fileName ?? Self.lastComponent(of: path))
        let fromName = typeForExtension(of: name)
        let fromContent = typeFromContent(ofFile: path, signaturesOnly: fromName != nil).flatMap { Self.isSpecific($0) ? $0 : nil }
        switch (fromName, fromContent) {
        case (nil, nil): return Self.fallback
        case (let name?, nil): return name
        case (nil, let content?): return content
        case (let name?, let content?):
            return Self.contentOverridesName(content: content, name: name) ? content : name
        }
    }

    /// The name whose extension tells the type: for rsync's temp file `.NAME.XXXXXX` (renamed to `NAME` once
    /// complete, possibly after its upload started), `NAME`; otherwise the name itself.
    public static func nameBeforeRename(_ name: String) -> String {
        let utf8 = Array(name.utf8)
        guard utf8.count > 8, utf8[0] == UInt8(ascii: "."), utf8[utf8.count - 7] == UInt8(ascii: "."),
            utf8[(utf8.count - 6)...].allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
        else { return name }
        return String(decoding: utf8[1..<(utf8.count - 7)], as: UTF8.self)
    }

    /// libmagic answers that say nothing about the format.
    static func isSpecific(_ type: String) -> Bool {
        !["application/octet-stream", "text/plain", "inode/x-empty", "application/x-empty"].contains(type)
    }

    /// Whether libmagic's answer should replace the extension's: only for formats it detects by signature.
    static func contentOverridesName(content: String, name: String) -> Bool {
        guard content != name else { return false }
        let signatureFamilies = ["image/", "audio/", "video/"]
        let contentIsSignature = content == "application/pdf" || signatureFamilies.contains { content.hasPrefix($0) }
        guard contentIsSignature else { return false }
        // Same family (e.g. audio/mp4 vs audio/x-m4a): containers are ambiguous, trust the name.
        let family = { (type: String) in type.split(separator: "/").first.map(String.init) ?? type }
        if family(content) == family(name), family(content) != "image" { return false }
        // SVG is XML text; libmagic may say image/svg+xml or text/xml: keep the name's answer.
        return !name.hasSuffix("+xml")
    }

    /// Parses `mime.types`: `type ext ext …` per line, `#` comments. Returns (extension, type) pairs.
    static func parseMimeTypes(_ text: String) -> [(String, String)] {
        var pairs: [(String, String)] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2 else { continue }
            let type = String(fields[0]).lowercased()
            for ext in fields.dropFirst() { pairs.append((String(ext).lowercased(), type)) }
        }
        return pairs
    }
}

/// One libmagic handle. libmagic handles are not thread-safe, so every use holds the lock.
private final class MagicCookie: Sendable {
    private let cookie: Mutex<OpaquePointer>

    init?(extraFlags: Int32 = 0) {
        guard let handle = magic_open(MAGIC_MIME_TYPE | MAGIC_SYMLINK | MAGIC_ERROR | extraFlags) else { return nil }
        guard magic_load(handle, nil) == 0 else {
            magic_close(handle)
            return nil
        }
        // libmagic reads up to 7 MiB of every file by default; the signatures it needs sit in the first
        // kilobytes (the old default was 1 MiB, kept here as a margin).
        var bytesMax = 1 << 20
        _ = magic_setparam(handle, MAGIC_PARAM_BYTES_MAX, &bytesMax)
        cookie = Mutex(handle)
    }

    deinit { cookie.withLock { magic_close($0) } }

    func mimeType(ofFile path: String) -> String? {
        cookie.withLock { handle -> String? in
            guard let result = magic_file(handle, path) else { return nil }
            let type = String(cString: result)
            return type.contains("/") ? type : nil
        }
    }
}

/// A prepared answer's key: which file, under which name.
private struct PreparedKey: Hashable {
    let device: UInt64
    let inode: UInt64
    let fileName: String

    init(_ identity: FileIdentity, fileName: String) {
        device = identity.device
        inode = identity.inode
        self.fileName = fileName
    }
}

/// Which file, and which version of it: a content type worked out earlier still holds while these match.
private struct FileIdentity: Equatable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modifiedSeconds: Int
    let modifiedNanoseconds: Int

    init?(_ path: String) {
        var attributes = stat()
        guard stat(path, &attributes) == 0 else { return nil }
        device = UInt64(attributes.st_dev)
        inode = UInt64(attributes.st_ino)
        size = Int64(attributes.st_size)
        modifiedSeconds = attributes.st_mtim.tv_sec
        modifiedNanoseconds = attributes.st_mtim.tv_nsec
    }
}
