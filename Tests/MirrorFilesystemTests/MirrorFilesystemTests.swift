import CLinux
import FUSEAdapter
import Foundation
import MirrorFilesystem
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Bytes handed to `write` as if they came from the kernel.
struct Bytes: WriteData {
    let bytes: [UInt8]
    var count: Int { bytes.count }
    func write(to descriptor: Int32, at offset: off_t) throws(FilesystemError) -> Int {
        let written = pwrite(descriptor, bytes, bytes.count, offset)
        if written < 0 { throw FilesystemError.lastSystemCall }
        return written
    }
}

/// The filesystem over a fresh backing directory, driven without a kernel mount.
final class Fixture {
    let directory: TemporaryDirectory
    let fs: MirrorFilesystem
    let caller = RequestContext(uid: getuid(), gid: getgid(), pid: getpid())

    init() throws {
        directory = try TemporaryDirectory("mirror")
        fs = try MirrorFilesystem(root: directory.path)
    }

    deinit {
        fs.shutdown()
        directory.remove()
    }

    func backing(_ name: String) -> String { directory.appending(name) }

    @discardableResult
    func createFile(_ name: String, in parent: InodeNumber = 1, contents: String = "") throws -> Entry {
        let (entry, opened) = try fs.create(
            parent: parent, name: FileName(name), mode: S_IFREG | 0o644, flags: O_WRONLY, context: caller)
        if !contents.isEmpty {
            _ = try fs.write(entry.inode, handle: opened.handle, offset: 0, data: Bytes(bytes: Array(contents.utf8)))
        }
        fs.release(entry.inode, handle: opened.handle, flags: O_WRONLY)
        return entry
    }

    func read(_ inode: InodeNumber) throws -> String {
        let opened = try fs.open(inode, flags: O_RDONLY, context: caller)
        defer { fs.release(inode, handle: opened.handle, flags: O_RDONLY) }
        guard case let .fileRegion(descriptor, offset, _) = try fs.read(inode, handle: opened.handle, offset: 0, size: 1 << 20)
        else { throw TestFailure("expected a file region") }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let count = pread(descriptor, &buffer, buffer.count, offset)
        return String(decoding: buffer[..<max(count, 0)], as: UTF8.self)
    }
}

@Suite("Mirror filesystem without a kernel mount")
struct MirrorFilesystemTests {
    @Test func createdFileLandsInBackingTreeAndReadsBack() throws {
        let f = try Fixture()
        let entry = try f.createFile("hello.txt", contents: "hello world")
        #expect(try String(contentsOfFile: f.backing("hello.txt"), encoding: .utf8) == "hello world")
        #expect(try f.read(entry.inode) == "hello world")
        #expect(try f.fs.attributes(of: entry.inode, handle: nil).st_size == 11)
    }

    @Test func lookupOfMissingNameIsENOENT() throws {
        let f = try Fixture()
        #expect(throws: FilesystemError.notFound) { try f.fs.lookup(parent: 1, name: "missing") }
    }

    @Test func overlongNameIsENAMETOOLONG() throws {
        let f = try Fixture()
        let name = FileName(String(repeating: "n", count: 256))
        #expect(throws: FilesystemError.nameTooLong) { try f.fs.lookup(parent: 1, name: name) }
        #expect(throws: FilesystemError.nameTooLong) {
            try f.fs.create(parent: 1, name: name, mode: S_IFREG | 0o644, flags: O_WRONLY, context: f.caller)
        }
        // 255 bytes is the longest allowed name, and works.
        try f.createFile(String(repeating: "n", count: 255))
    }

    @Test func namesThatAreNotUTF8RoundTripByteForByte() throws {
        let f = try Fixture()
        let latin1 = FileName(bytes: [0x63, 0x61, 0x66, 0xE9, 0x20, 0xFF])  // "café ÿ" in Latin-1
        let (entry, opened) = try f.fs.create(parent: 1, name: latin1, mode: S_IFREG | 0o644, flags: O_WRONLY, context: f.caller)
        f.fs.release(entry.inode, handle: opened.handle, flags: O_WRONLY)
        #expect(try f.fs.lookup(parent: 1, name: latin1).inode == entry.inode)
        let handle = try f.fs.openDirectory(1)
        defer { f.fs.releaseDirectory(1, handle: handle) }
        var listed: [FileName] = []
        try f.fs.readDirectory(1, handle: handle, offset: 0, plus: false) { item, _ in
            listed.append(FileName(cString: item.name))
            return true
        }
        #expect(listed.contains(latin1))
        let link = try f.fs.makeSymbolicLink(target: latin1, parent: 1, name: "to-latin1", context: f.caller)
        #expect(try f.fs.readLink(link.inode) == latin1)
    }

    @Test func repeatedLookupsShareOneInodeUntilForgotten() throws {
        let f = try Fixture()
        let created = try f.createFile("a")
        let again = try f.fs.lookup(parent: 1, name: "a")
        #expect(again.inode == created.inode)
        #expect(f.fs.liveInodeCount == 1)
        f.fs.forget(created.inode, lookups: 1)
        #expect(f.fs.liveInodeCount == 1)
        f.fs.forget(created.inode, lookups: 1)
        #expect(f.fs.liveInodeCount == 0)
        #expect(throws: FilesystemError(ESTALE)) { try f.fs.attributes(of: created.inode, handle: nil) }
    }

    @Test func inodeSurvivesRenameOfItsParent() throws {
        let f = try Fixture()
        let dir = try f.fs.makeDirectory(parent: 1, name: "d", mode: 0o755, context: f.caller)
        let file = try f.createFile("x", in: dir.inode, contents: "data")
        try f.fs.rename(parent: 1, name: "d", newParent: 1, newName: "e", flags: 0)
        #expect(try f.read(file.inode) == "data")
        #expect(FileManager.default.fileExists(atPath: f.backing("e/x")))
    }

    @Test func renameFlagsNoReplaceAndExchange() throws {
        let f = try Fixture()
        try f.createFile("a", contents: "A")
        try f.createFile("b", contents: "B")
        #expect(throws: FilesystemError.exists) {
            try f.fs.rename(parent: 1, name: "a", newParent: 1, newName: "b", flags: 1)  // RENAME_NOREPLACE
        }
        try f.fs.rename(parent: 1, name: "a", newParent: 1, newName: "b", flags: 2)  // RENAME_EXCHANGE
        #expect(try String(contentsOfFile: f.backing("a"), encoding: .utf8) == "B")
        #expect(try String(contentsOfFile: f.backing("b"), encoding: .utf8) == "A")
        #expect(throws: FilesystemError.invalid) {
            try f.fs.rename(parent: 1, name: "a", newParent: 1, newName: "b", flags: 4)  // RENAME_WHITEOUT
        }
    }

    @Test func removeDirectoryThatIsNotEmptyIsENOTEMPTY() throws {
        let f = try Fixture()
        let dir = try f.fs.makeDirectory(parent: 1, name: "d", mode: 0o755, context: f.caller)
        try f.createFile("x", in: dir.inode)
        #expect(throws: FilesystemError(ENOTEMPTY)) { try f.fs.removeDirectory(parent: 1, name: "d") }
        try f.fs.removeFile(parent: dir.inode, name: "x")
        try f.fs.removeDirectory(parent: 1, name: "d")
        #expect(!FileManager.default.fileExists(atPath: f.backing("d")))
    }

    @Test func makeDirectoryOverExistingNameIsEEXIST() throws {
        let f = try Fixture()
        try f.createFile("x")
        #expect(throws: FilesystemError.exists) {
            try f.fs.makeDirectory(parent: 1, name: "x", mode: 0o755, context: f.caller)
        }
    }

    @Test func fifosAndSocketsAreKeptAsWhatTheyAreAndUnknownKindsRefused() throws {
        let f = try Fixture()
        let kinds: [(String, mode_t)] = [("fifo", S_IFIFO), ("socket", S_IFSOCK)]
        for (name, kind) in kinds {
            let node = try f.fs.makeNode(parent: 1, name: FileName(name), mode: kind | 0o640, device: 0, context: f.caller)
            #expect(node.attributes.st_mode == kind | 0o640, "\(name)")
            var backing = stat()
            #expect(lstat(f.backing(name), &backing) == 0 && backing.st_mode == kind | 0o640, "\(name)")
        }
        #expect(throws: FilesystemError.invalid) {
            try f.fs.makeNode(parent: 1, name: "odd", mode: 0o170000 | 0o644, device: 0, context: f.caller)
        }
        let regular = try f.fs.makeNode(parent: 1, name: "plain", mode: S_IFREG | 0o600, device: 0, context: f.caller)
        #expect(regular.attributes.st_mode & 0o777 == 0o600)
    }

    @Test func newNamesGetTheModeAskedForWhateverTheDaemonsUmask() throws {
        let f = try Fixture()
        // The kernel applied the caller's umask already: 0o777 here means the caller's umask was 0.
        let directory = try f.fs.makeDirectory(parent: 1, name: "open", mode: 0o777, context: f.caller)
        let fifo = try f.fs.makeNode(parent: 1, name: "pipe", mode: S_IFIFO | 0o666, device: 0, context: f.caller)
        #expect(directory.attributes.st_mode == S_IFDIR | 0o777)
        #expect(fifo.attributes.st_mode == S_IFIFO | 0o666)
        var backing = stat()
        #expect(lstat(f.backing("open"), &backing) == 0 && backing.st_mode == S_IFDIR | 0o777)
    }

    @Test func symlinksAndHardLinks() throws {
        let f = try Fixture()
        let target = try f.createFile("target", contents: "t")
        let link = try f.fs.makeSymbolicLink(target: "target", parent: 1, name: "sym", context: f.caller)
        #expect(try f.fs.readLink(link.inode) == "target")
        let hard = try f.fs.makeHardLink(target.inode, newParent: 1, newName: "hard")
        #expect(hard.inode == target.inode)
        #expect(hard.attributes.st_nlink == 2)
    }

    @Test func setAttributesTruncatesChmodsAndSetsTimes() throws {
        let f = try Fixture()
        let file = try f.createFile("f", contents: "0123456789")
        var changes = AttributeChanges(mode: 0o600, size: 4)
        changes.modificationTime = .at(timespec(tv_sec: 1_000_000, tv_nsec: 500))
        let after = try f.fs.setAttributes(of: file.inode, handle: nil, changes: changes, context: f.caller)
        #expect(after.st_size == 4)
        #expect(after.st_mode & 0o777 == 0o600)
        #expect(after.st_mtim.tv_sec == 1_000_000 && after.st_mtim.tv_nsec == 500)
        // Omitted times stay; UTIME_NOW moves them to now.
        let now = try f.fs.setAttributes(
            of: file.inode, handle: nil, changes: AttributeChanges(modificationTime: .now), context: f.caller)
        #expect(now.st_mtim.tv_sec > 1_000_000)
        let grown = try f.fs.setAttributes(of: file.inode, handle: nil, changes: AttributeChanges(size: 100), context: f.caller)
        #expect(grown.st_size == 100)
    }

    @Test func readDirectoryListsEntriesAndResumesFromOffset() throws {
        let f = try Fixture()
        for index in 0..<50 { try f.createFile("file-\(index)") }
        let handle = try f.fs.openDirectory(1)
        defer { f.fs.releaseDirectory(1, handle: handle) }
        var names: [String] = []
        var offset: off_t = 0
        // Take 7 entries per call, as a small kernel buffer would.
        while true {
            var taken = 0
            try f.fs.readDirectory(1, handle: handle, offset: offset, plus: false) { entry, _ in
                guard taken < 7 else { return false }
                taken += 1
                names.append(String(cString: entry.name))
                offset = entry.nextOffset
                return true
            }
            if taken == 0 { break }
        }
        let expected = Set((0..<50).map { "file-\($0)" } + [".", ".."])
        #expect(Set(names) == expected)
        #expect(names.count == expected.count)
    }

    @Test func readDirectoryPlusCountsLookupsOnlyForAcceptedEntries() throws {
        let f = try Fixture()
        for index in 0..<3 { try f.createFile("f\(index)") }
        for index in 0..<3 { f.fs.forget(try f.fs.lookup(parent: 1, name: "f\(index)").inode, lookups: 2) }
        #expect(f.fs.liveInodeCount == 0)
        let handle = try f.fs.openDirectory(1)
        defer { f.fs.releaseDirectory(1, handle: handle) }
        var accepted = 0
        try f.fs.readDirectory(1, handle: handle, offset: 0, plus: true) { entry, full in
            if full == nil { return true }  // . and ..
            guard accepted < 1 else { return false }
            accepted += 1
            return true
        }
        #expect(f.fs.liveInodeCount == 1)
    }

    @Test func userExtendedAttributesAreStoredOnTheBackingFile() throws {
        let f = try Fixture()
        let file = try f.createFile("x")
        try f.fs.setExtendedAttribute(file.inode, name: "user.color", value: Array("blue".utf8), flags: 0)
        #expect(try f.fs.extendedAttribute(file.inode, name: "user.color") == Array("blue".utf8))
        #expect(try f.fs.extendedAttributeNames(file.inode) == ["user.color"])
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(getxattr(f.backing("x"), "user.color", &buffer, 16) == 4)
        #expect(throws: FilesystemError.notSupported) {
            try f.fs.setExtendedAttribute(file.inode, name: "trusted.x", value: [1], flags: 0)
        }
        try f.fs.removeExtendedAttribute(file.inode, name: "user.color")
        #expect(throws: FilesystemError.noData) { try f.fs.extendedAttribute(file.inode, name: "user.color") }
    }

    @Test func seekFindsDataAndHolesOfSparseFiles() throws {
        let f = try Fixture()
        let (entry, opened) = try f.fs.create(parent: 1, name: "sparse", mode: S_IFREG | 0o644, flags: O_RDWR, context: f.caller)
        defer { f.fs.release(entry.inode, handle: opened.handle, flags: O_RDWR) }
        let offset: off_t = 64 << 20
        _ = try f.fs.write(entry.inode, handle: opened.handle, offset: offset, data: Bytes(bytes: [1, 2, 3]))
        let data = try f.fs.seek(entry.inode, handle: opened.handle, offset: 0, whence: 3)  // SEEK_DATA
        #expect(data >= offset - 4096 && data <= offset)
        let hole = try f.fs.seek(entry.inode, handle: opened.handle, offset: 0, whence: 4)  // SEEK_HOLE
        #expect(hole == 0)
        let before = try f.fs.attributes(of: entry.inode, handle: nil).st_blocks
        try f.fs.allocate(entry.inode, handle: opened.handle, mode: 0, offset: 0, length: 1 << 20)
        #expect(try f.fs.attributes(of: entry.inode, handle: nil).st_blocks >= before + 2048)
    }

    @Test func statisticsDescribeTheBackingDisk() throws {
        let f = try Fixture()
        let stats = try f.fs.statistics(1)
        #expect(stats.f_blocks > 0)
        #expect(stats.f_namemax == 255)
    }
}
