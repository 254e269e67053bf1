import Foundation
import Testing
import UploadStatus

@Suite("Directory entry names")
struct DirectoryEntryNameTests {
    /// Names of every length up to the longest a file may have, and bytes that are not UTF-8, come back as
    /// they were made (read in place from each entry, whatever its length).
    @Test func everyNameComesBackAsItsBytes() throws {
        let directory = NSTemporaryDirectory() + "entry-names-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var made: Set<[UInt8]> = []
        for length in 1...255 {
            var name = [UInt8](repeating: UInt8(ascii: "a") + UInt8(length % 26), count: length)
            if length % 7 == 0 { name[0] = 0xE9 }  // Latin-1 é: not UTF-8
            made.insert(name)
            let path = Array(directory.utf8) + [UInt8(ascii: "/")] + name + [0]
            let descriptor = path.withUnsafeBufferPointer { pointer in
                pointer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600) }
            }
            #expect(descriptor >= 0)
            close(descriptor)
        }
        let stream = try #require(opendir(directory))
        defer { closedir(stream) }
        var read: Set<[UInt8]> = []
        while let entry = readdir(stream) {
            let name = directoryEntryName(entry)
            if name != [UInt8(ascii: ".")] && name != [UInt8(ascii: "."), UInt8(ascii: ".")] { read.insert(name) }
        }
        #expect(read == made)
    }
}
