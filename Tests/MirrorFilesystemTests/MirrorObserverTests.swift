import FUSEAdapter
import Foundation
import MirrorFilesystem
import Synchronization
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Records what the mirror reports, as lines like `closed a.txt 5`.
final class RecordingObserver: MirrorObserver {
    private let lines = Mutex<[String]>([])
    var events: [String] { lines.withLock { $0 } }
    private func add(_ line: String) { lines.withLock { $0.append(line) } }

    func fileWritten(_ path: String) { add("written \(path)") }
    func fileClosed(_ path: String, size: Int64) { add("closed \(path) \(size)") }
    func renamed(from: String, to: String, isDirectory: Bool) { add("renamed \(from) -> \(to)\(isDirectory ? " dir" : "")") }
    func exchanged(_ first: String, _ second: String) { add("exchanged \(first) <-> \(second)") }
    func removed(_ path: String, isDirectory: Bool) { add("removed \(path)\(isDirectory ? " dir" : "")") }
    func directoryCreated(_ path: String) { add("mkdir \(path)") }
}

@Suite("Mirror filesystem events for the upload engine")
struct MirrorObserverTests {
    let directory: TemporaryDirectory
    let observer = RecordingObserver()
    let fs: MirrorFilesystem
    let caller = RequestContext(uid: getuid(), gid: getgid(), pid: getpid())

    init() throws {
        directory = try TemporaryDirectory("events")
        fs = try MirrorFilesystem(root: directory.path, observer: observer)
    }

    func write(_ inode: InodeNumber, _ handle: UInt64, _ text: String, at offset: off_t = 0) throws {
        _ = try fs.write(inode, handle: handle, offset: offset, data: Bytes(bytes: Array(text.utf8)))
    }

    @Test func createWriteCloseIsReportedOnceWithTheFinalSize() throws {
        defer { fs.shutdown(); directory.remove() }
        let dir = try fs.makeDirectory(parent: 1, name: "videos", mode: 0o755, context: caller)
        let (entry, opened) = try fs.create(parent: dir.inode, name: "a.mp4", mode: S_IFREG | 0o644, flags: O_WRONLY, context: caller)
        try write(entry.inode, opened.handle, "hello")
        try write(entry.inode, opened.handle, " world", at: 5)
        fs.release(entry.inode, handle: opened.handle, flags: O_WRONLY)
        #expect(observer.events == ["mkdir videos", "written videos/a.mp4", "closed videos/a.mp4 11"])
    }

    @Test func onlyTheLastWritingHandleReportsTheClose() throws {
        defer { fs.shutdown(); directory.remove() }
        let (entry, first) = try fs.create(parent: 1, name: "f", mode: S_IFREG | 0o644, flags: O_RDWR, context: caller)
        let second = try fs.open(entry.inode, flags: O_WRONLY, context: caller)
        let reader = try fs.open(entry.inode, flags: O_RDONLY, context: caller)
        try write(entry.inode, second.handle, "abc")
        fs.release(entry.inode, handle: first.handle, flags: O_RDWR)
        fs.release(entry.inode, handle: reader.handle, flags: O_RDONLY)
        #expect(observer.events == ["written f"])
        fs.release(entry.inode, handle: second.handle, flags: O_WRONLY)
        #expect(observer.events == ["written f", "closed f 3"])
        // Opening and closing without writing reports nothing.
        let again = try fs.open(entry.inode, flags: O_WRONLY, context: caller)
        fs.release(entry.inode, handle: again.handle, flags: O_WRONLY)
        #expect(observer.events.count == 2)
    }

    @Test func renamesRemovalsTruncatesAndExchanges() throws {
        defer { fs.shutdown(); directory.remove() }
        let (entry, opened) = try fs.create(parent: 1, name: ".a.txt.XyZ123", mode: S_IFREG | 0o644, flags: O_WRONLY, context: caller)
        fs.release(entry.inode, handle: opened.handle, flags: O_WRONLY)
        try fs.rename(parent: 1, name: ".a.txt.XyZ123", newParent: 1, newName: "a.txt", flags: 0)
        let dir = try fs.makeDirectory(parent: 1, name: "d", mode: 0o755, context: caller)
        try fs.rename(parent: 1, name: "d", newParent: 1, newName: "e", flags: 0)
        _ = try fs.setAttributes(of: entry.inode, handle: nil, changes: AttributeChanges(size: 3), context: caller)
        let (b, handle) = try fs.create(parent: dir.inode, name: "b", mode: S_IFREG | 0o644, flags: O_WRONLY, context: caller)
        fs.release(b.inode, handle: handle.handle, flags: O_WRONLY)
        try fs.rename(parent: 1, name: "a.txt", newParent: dir.inode, newName: "b", flags: 2)  // RENAME_EXCHANGE
        try fs.removeFile(parent: 1, name: "a.txt")
        try fs.removeFile(parent: dir.inode, name: "b")
        try fs.removeDirectory(parent: 1, name: "e")
        #expect(observer.events == [
            "written .a.txt.XyZ123", "closed .a.txt.XyZ123 0",
            "renamed .a.txt.XyZ123 -> a.txt",
            "mkdir d",
            "renamed d -> e dir",
            "written a.txt", "closed a.txt 3",
            "written e/b", "closed e/b 0",
            "exchanged a.txt <-> e/b",
            "removed a.txt", "removed e/b", "removed e dir",
        ])
    }
}
