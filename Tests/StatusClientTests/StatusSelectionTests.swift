import Foundation
import StatusClient
import Testing
import UploadStatus

@Suite("Finding the mount of a named path")
struct StatusSelectionTests {
    @Test func aFileOrDirectoryIsPlacedInTheDirectoryServingStatusJSON() throws {
        let directory = try StatusDirectory([
            UploadRecord(path: "videos/a.mp4", state: .ready, size: 3, uploadedBytes: 3),
            UploadRecord(path: "videos/b.mp4", state: .pending, size: 5),
            UploadRecord(path: "c.txt", state: .uploading, size: 8, uploadedBytes: 2),
        ])
        defer { directory.remove() }
        let file = try StatusTarget(directory.root + "/videos/a.mp4")
        #expect(file.root == directory.root)
        #expect(file.relative == "videos/a.mp4")
        #expect(file.kind == .file)
        let folder = try StatusTarget(directory.root + "/videos/")
        #expect(folder.relative == "videos")
        #expect(folder.kind == .directory)
        #expect(folder.covers("videos/b.mp4") && !folder.covers("videosX/b.mp4") && !folder.covers("c.txt"))

        let snapshot = try #require(try StatusSelection(paths: [directory.root + "/videos"]).snapshots().first)
        #expect(snapshot.files.map(\.path) == ["videos/a.mp4", "videos/b.mp4"])
        let filtered = snapshot.filteredReport
        #expect(filtered.files_total == 2)
        #expect(filtered.totals[.ready] == 1 && filtered.totals[.pending] == 1 && filtered.totals[.uploading] == 0)
        #expect(filtered.bytes_pending == 5)
        #expect(snapshot.report.files_total == 3)
    }

    @Test func aPathOutsideAnyMountOrMissingIsOneLine() throws {
        let directory = try StatusDirectory([])
        defer { directory.remove() }
        #expect {
            try StatusTarget(directory.root + "/nothing-here")
        } throws: { error in
            (error as? CommandError)?.description.hasSuffix("does not exist") == true
        }
        #expect {
            try StatusTarget("/proc")
        } throws: { error in
            (error as? CommandError)?.description == "/proc is not inside a tusfs mount"
        }
    }

    @Test func pathsAreShownRelativeToTheCurrentDirectoryWhenBelowIt() {
        #expect(MountStatus.displayPath("/mnt/up/a.txt", from: "/mnt/up") == "a.txt")
        #expect(MountStatus.displayPath("/mnt/up/a.txt", from: "/mnt/other") == "/mnt/up/a.txt")
        #expect(MountStatus.displayPath("/a.txt", from: "/") == "a.txt")
        #expect(MountStatus.documentPath(root: "/") == "/.tusfs/status.json")
    }
}
