import FUSEAdapter
import Foundation
import MirrorFilesystem
import Synchronization
import TestSupport
import Testing
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

/// A status provider that knows fixed states and records retries.
final class FixedStatus: MirrorStatusProvider {
    let states: [String: String]
    private let retried = Mutex<[String]>([])
    var retries: [String] { retried.withLock { $0 } }

    init(_ states: [String: String]) { self.states = states }

    func statusAttributes(of path: String) -> [StatusAttribute]? {
        states[path].map { [StatusAttribute("state", $0), StatusAttribute("progress", "0/0")] }
    }
    func sidecar(of path: String) -> [UInt8]? {
        states[path].map { Array("{\"path\":\"\(path)\",\"state\":\"\($0)\"}".utf8) }
    }
    /// A listing in two pieces (a document produced as it is read): `{"under":"DIR","files":N}`.
    func statusDocument(under directory: String) -> StreamedDocument {
        let count = states.keys.filter { directory.isEmpty || $0.hasPrefix(directory + "/") }.count
        let pieces = Mutex([Array("{\"under\":\"\(directory)\",".utf8), Array("\"files\":\(count)}".utf8)])
        return StreamedDocument { pieces.withLock { $0.isEmpty ? nil : $0.removeFirst() } }
    }
    func subtreeSummary(of path: String) -> [UInt8] {
        let count = states.keys.filter { path.isEmpty || $0 == path || $0.hasPrefix(path + "/") }.count
        return Array("{\"path\":\"\(path)\",\"files\":\(count)}".utf8)
    }
    func retry(_ path: String) throws(FilesystemError) {
        guard states[path] == "failed" else { throw .invalid }
        retried.withLock { $0.append(path) }
    }
}

@Suite("Virtual status files and attributes")
struct StatusSurfaceTests {
    let directory: TemporaryDirectory
    let status = FixedStatus(["docs/a.txt": "ready", "b.bin": "failed"])
    let fs: MirrorFilesystem
    let caller = RequestContext(uid: getuid(), gid: getgid(), pid: getpid())

    init() throws {
        directory = try TemporaryDirectory("status")
        try FileManager.default.createDirectory(atPath: directory.appending("docs"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory.appending("docs/a.txt"), contents: Data("a".utf8))
        _ = FileManager.default.createFile(atPath: directory.appending("b.bin"), contents: Data("b".utf8))
        fs = try MirrorFilesystem(root: directory.path, statusProvider: status)
    }

    func readAll(_ inode: InodeNumber) throws -> String {
        let opened = try fs.open(inode, flags: O_RDONLY, context: caller)
        defer { fs.release(inode, handle: opened.handle, flags: O_RDONLY) }
        #expect(opened.directIO)
        guard case .bytes(let bytes) = try fs.read(inode, handle: opened.handle, offset: 0, size: 4096) else {
            throw TestFailure("expected bytes")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func names(in inode: InodeNumber) throws -> [String] {
        let handle = try fs.openDirectory(inode)
        defer { fs.releaseDirectory(inode, handle: handle) }
        var names: [String] = []
        try fs.readDirectory(inode, handle: handle, offset: 0, plus: false) { entry, _ in
            names.append(String(cString: entry.name))
            return true
        }
        return names.sorted()
    }

    @Test func sidecarIsReadableByNameButNeverListed() throws {
        defer { fs.shutdown(); directory.remove() }
        let docs = try fs.lookup(parent: 1, name: "docs")
        let sidecar = try fs.lookup(parent: docs.inode, name: "a.txt.tusfs.json")
        #expect(sidecar.entryTimeout == 0)
        #expect(fs.attributeTimeout(of: sidecar.inode) == 0)
        #expect(fs.attributeTimeout(of: docs.inode) == 60)
        #expect(sidecar.attributes.st_mode == S_IFREG | 0o444)
        let text = try readAll(sidecar.inode)
        #expect(text == "{\"path\":\"docs/a.txt\",\"state\":\"ready\"}")
        #expect(sidecar.attributes.st_size == text.utf8.count)
        #expect(try names(in: docs.inode) == [".", "..", "a.txt"])
        #expect(try names(in: 1) == [".", "..", "b.bin", "docs"])
        // No sidecar for a missing file, and it cannot be written.
        #expect(throws: FilesystemError.notFound) { try fs.lookup(parent: 1, name: "missing.tusfs.json") }
        #expect(throws: FilesystemError(EACCES)) { try fs.open(sidecar.inode, flags: O_WRONLY, context: caller) }
        #expect(throws: FilesystemError.notPermitted) {
            try fs.create(parent: 1, name: "x.tusfs.json", mode: S_IFREG | 0o644, flags: O_WRONLY, context: caller)
        }
    }

    @Test func controlDirectoryServesStatusDocument() throws {
        defer { fs.shutdown(); directory.remove() }
        let control = try fs.lookup(parent: 1, name: ".tusfs")
        #expect(control.attributes.st_mode & S_IFMT == S_IFDIR)
        #expect(try names(in: control.inode) == [".", "..", "status.json"])
        let document = try fs.lookup(parent: control.inode, name: "status.json")
        #expect(try readAll(document.inode) == "{\"under\":\"\",\"files\":2}")
        #expect(document.attributes.st_size == 0, "a listing's size is known once read, as in /proc")
        #expect(throws: FilesystemError.notPermitted) { try fs.makeDirectory(parent: 1, name: ".tusfs", mode: 0o755, context: caller) }
        #expect(throws: FilesystemError.notFound) { try fs.lookup(parent: docsInode(), name: ".tusfs") }
    }

    func docsInode() throws -> InodeNumber { try fs.lookup(parent: 1, name: "docs").inode }

    @Test func aDirectorysSidecarListsTheFilesUnderIt() throws {
        defer { fs.shutdown(); directory.remove() }
        let listing = try fs.lookup(parent: 1, name: "docs.tusfs.json")
        #expect(listing.attributes.st_mode == S_IFREG | 0o400, "the mount owner's, like status.json")
        #expect(listing.attributes.st_size == 0)
        #expect(try readAll(listing.inode) == "{\"under\":\"docs\",\"files\":1}")
        #expect(try names(in: 1) == [".", "..", "b.bin", "docs"], "never listed")
        // Read in small pieces, and from the start again.
        let opened = try fs.open(listing.inode, flags: O_RDONLY, context: caller)
        defer { fs.release(listing.inode, handle: opened.handle, flags: O_RDONLY) }
        var text: [UInt8] = []
        while case .bytes(let bytes) = try fs.read(listing.inode, handle: opened.handle, offset: off_t(text.count), size: 5), !bytes.isEmpty {
            text += bytes
        }
        #expect(String(decoding: text, as: UTF8.self) == "{\"under\":\"docs\",\"files\":1}")
        guard case .bytes(let again) = try fs.read(listing.inode, handle: opened.handle, offset: 0, size: 4096) else {
            throw TestFailure("expected bytes")
        }
        #expect(again == text)
    }

    @Test func statusAttributesAreListedReadAndRetried() throws {
        defer { fs.shutdown(); directory.remove() }
        let file = try fs.lookup(parent: 1, name: "b.bin")
        try fs.setExtendedAttribute(file.inode, name: "user.color", value: Array("red".utf8), flags: 0)
        #expect(try fs.extendedAttributeNames(file.inode) == ["user.color", "user.tusfs.state", "user.tusfs.progress"])
        #expect(try fs.extendedAttribute(file.inode, name: "user.tusfs.state") == Array("failed".utf8))
        #expect(throws: FilesystemError.noData) { try fs.extendedAttribute(file.inode, name: "user.tusfs.nothing") }
        // Copies from another tusfs mount set them: accepted, no effect.
        try fs.setExtendedAttribute(file.inode, name: "user.tusfs.state", value: Array("ready".utf8), flags: 0)
        #expect(try fs.extendedAttribute(file.inode, name: "user.tusfs.state") == Array("failed".utf8))
        try fs.removeExtendedAttribute(file.inode, name: "user.tusfs.state")
        try fs.setExtendedAttribute(file.inode, name: "user.tusfs.retry", value: Array("1".utf8), flags: 0)
        #expect(status.retries == ["b.bin"])
        let ready = try fs.lookup(parent: try docsInode(), name: "a.txt")
        #expect(throws: FilesystemError.invalid) {
            try fs.setExtendedAttribute(ready.inode, name: "user.tusfs.retry", value: Array("1".utf8), flags: 0)
        }
    }

    @Test func summaryIsReadableByNameOnDirectoriesFilesAndTheRootButNeverListed() throws {
        defer { fs.shutdown(); directory.remove() }
        let docs = try docsInode()
        #expect(String(decoding: try fs.extendedAttribute(docs, name: "user.tusfs.summary"), as: UTF8.self) == #"{"path":"docs","files":1}"#)
        #expect(String(decoding: try fs.extendedAttribute(1, name: "user.tusfs.summary"), as: UTF8.self) == #"{"path":"","files":2}"#)
        let file = try fs.lookup(parent: 1, name: "b.bin")
        #expect(String(decoding: try fs.extendedAttribute(file.inode, name: "user.tusfs.summary"), as: UTF8.self) == #"{"path":"b.bin","files":1}"#)
        #expect(try fs.extendedAttributeNames(docs).isEmpty)
        #expect(try fs.extendedAttributeNames(1).isEmpty)
        #expect(!(try fs.extendedAttributeNames(file.inode).contains("user.tusfs.summary")))
        // Read-only like the other status attributes: a copy from another tusfs mount setting it has no effect.
        try fs.setExtendedAttribute(docs, name: "user.tusfs.summary", value: Array("{}".utf8), flags: 0)
        #expect(String(decoding: try fs.extendedAttribute(docs, name: "user.tusfs.summary"), as: UTF8.self) == #"{"path":"docs","files":1}"#)
    }

    /// Another user of a shared mount (`allow_other`) learns nothing through the status surface that the files
    /// themselves would not tell: a sidecar and a file's status attributes follow the file's owner, group and
    /// read bits (supplementary groups included); `status.json` and summaries are the mount owner's and root's.
    @Test func statusIsShownOnlyToThoseWhoMayReadWhatItDescribes() throws {
        defer { fs.shutdown(); directory.remove() }
        let other = RequestContext(uid: 65534, gid: 65534, pid: getpid())
        let member = RequestContext(uid: 65534, gid: 65534, pid: getpid(), supplementaryGroups: { [4242] })
        #expect(chown(directory.appending("b.bin"), 0, 4242) == 0 && chmod(directory.appending("b.bin"), 0o640) == 0)
        let file = try fs.lookup(parent: 1, name: "b.bin")
        let sidecar = try fs.lookup(parent: 1, name: "b.bin.tusfs.json")
        #expect(sidecar.attributes.st_mode == S_IFREG | 0o440, "the file's read bits")
        #expect(sidecar.attributes.st_uid == 0 && sidecar.attributes.st_gid == 4242, "the file's owner and group")
        #expect(throws: FilesystemError(EACCES)) { try fs.open(sidecar.inode, flags: O_RDONLY, context: other) }
        #expect(throws: FilesystemError(EACCES)) { try fs.extendedAttribute(file.inode, name: "user.tusfs.state", context: other) }
        let opened = try fs.open(sidecar.inode, flags: O_RDONLY, context: member)
        fs.release(sidecar.inode, handle: opened.handle, flags: O_RDONLY)
        #expect(try fs.extendedAttribute(file.inode, name: "user.tusfs.state", context: member) == Array("failed".utf8))
        // A file anyone may read: its sidecar too.
        let docs = try docsInode()
        let readable = try fs.lookup(parent: docs, name: "a.txt.tusfs.json")
        let openedReadable = try fs.open(readable.inode, flags: O_RDONLY, context: other)
        fs.release(readable.inode, handle: openedReadable.handle, flags: O_RDONLY)
        // The whole mount's status: the owner (the daemon's user, root here) only.
        let control = try fs.lookup(parent: 1, name: ".tusfs")
        let document = try fs.lookup(parent: control.inode, name: "status.json")
        #expect(document.attributes.st_mode == S_IFREG | 0o400 && document.attributes.st_uid == geteuid())
        #expect(throws: FilesystemError(EACCES)) { try fs.open(document.inode, flags: O_RDONLY, context: member) }
        #expect(throws: FilesystemError(EACCES)) { try fs.extendedAttribute(1, name: "user.tusfs.summary", context: member) }
        #expect(throws: FilesystemError(EACCES)) { try fs.extendedAttribute(docs, name: "user.tusfs.summary", context: other) }
        #expect(try readAll(document.inode) == "{\"under\":\"\",\"files\":2}", "the owner still reads it")
    }
}
