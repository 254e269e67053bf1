import Foundation
import TestSupport
import Testing

/// Records the differences between two trees as one failed expectation.
func expectSameTree(
    _ source: String, _ copy: String, options: TreeComparison.Options = .init(),
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let differences = try TreeComparison.differences(source, copy, options: options)
    #expect(differences.isEmpty, "\(differences.prefix(20).joined(separator: "\n"))", sourceLocation: sourceLocation)
}

/// `cp -a`, `rsync -aH` and `tar -x` of a mixed tree into a real mount give back exactly the source.
@Suite("Copying trees into the mount", .serialized)
struct CopyIntoMountTests {
    /// One mixed source tree (with a 300 MB file) shared by the tests of this suite.
    /// Removed when the test process exits.
    static let source: TemporaryDirectory = {
        let directory = try! TemporaryDirectory("source")
        try! MixedTree.create(at: directory.appending("tree"))
        atexit { CopyIntoMountTests.source.remove() }
        return directory
    }()
    var tree: String { Self.source.appending("tree") }

    @Test func cpArchivePreservesContentModesTimesAndLinksAcrossRemount() throws {
        try withTusfsMount("cp") { mount in
            let copy = try ProcessRunner.run("cp", ["-a", tree + "/.", mount.path("copy")])
            #expect(copy.succeeded, "\(copy.stderr)")
            try expectSameTree(tree, mount.path("copy"))
            // The backing tree holds the same.
            try expectSameTree(tree, mount.backingPath("copy"))

            try mount.unmount()
            #expect(!FileManager.default.fileExists(atPath: mount.path("copy")))
            try mount.mount()
            try expectSameTree(tree, mount.path("copy"))
        }
    }

    @Test func rsyncArchiveThenNothingToDoThenDelete() throws {
        try withTusfsMount("rsync") { mount in
            let destination = mount.path("dst")
            let first = try ProcessRunner.run("rsync", ["-aH", tree + "/", destination + "/"])
            #expect(first.succeeded, "\(first.stderr)")
            try expectSameTree(tree, destination)

            let second = try ProcessRunner.run("rsync", ["-aHi", tree + "/", destination + "/"])
            #expect(second.succeeded, "\(second.stderr)")
            #expect(second.stdout == "", "a second rsync found changes:\n\(second.stdout)")

            // Change the source: remove a file and a directory, add one, edit one; --delete mirrors it.
            let changed = try TemporaryDirectory("changed")
            defer { changed.remove() }
            let edited = changed.appending("tree")
            #expect(try ProcessRunner.run("cp", ["-a", tree, edited]).succeeded)
            try FileManager.default.removeItem(atPath: edited + "/docs/readme.txt")
            try FileManager.default.removeItem(atPath: edited + "/many")
            try Data("new file\n".utf8).write(to: URL(fileURLWithPath: edited + "/added.txt"))
            try Data("edited\n".utf8).write(to: URL(fileURLWithPath: edited + "/scripts/run.sh"))
            let mirror = try ProcessRunner.run("rsync", ["-aH", "--delete", edited + "/", destination + "/"])
            #expect(mirror.succeeded, "\(mirror.stderr)")
            // Directory times are left out here: rsync itself (on a local disk too) leaves a directory's
            // mtime at the moment it deleted the first name of a hard-link group in it.
            var contentsOnly = TreeComparison.Options()
            contentsOnly.compareDirectoryTimes = false
            try expectSameTree(edited, destination, options: contentsOnly)
        }
    }

    @Test func tarExtractsIntoTheMount() throws {
        try withTusfsMount("tar") { mount in
            let archive = Self.source.appending("tree.tar")
            if !FileManager.default.fileExists(atPath: archive) {
                #expect(try ProcessRunner.run("tar", ["--format=posix", "-cf", archive, "-C", tree, "."]).succeeded)
            }
            let extract = try ProcessRunner.run("tar", ["-xpf", archive, "-C", mount.mountpoint])
            #expect(extract.succeeded, "\(extract.stderr)")
            var options = TreeComparison.Options()
            options.compareDirectoryTimes = true
            try expectSameTree(tree, mount.mountpoint, options: options)
        }
    }
}
