import Foundation
import MountDaemon
import TestSupport
import Testing
import UploadEngine

@Suite("Engine observer: the mirror's callbacks as file events")
struct EngineObserverTests {
    let sink = RecordingEventSink()
    var observer: EngineObserver { EngineObserver(events: sink) }

    @Test func writesAndClosesArePostedAsTheyCome() {
        observer.fileWritten("a/b.txt")
        observer.fileClosed("a/b.txt", size: 42)
        #expect(sink.events == [.written("a/b.txt"), .closed("a/b.txt", size: 42)])
    }

    @Test func aRenamedFileAndARenamedDirectoryPostTheirOwnEvent() {
        observer.renamed(from: "a.txt", to: "b.txt", isDirectory: false)
        observer.renamed(from: "dir", to: "other/dir", isDirectory: true)
        #expect(sink.events == [.renamed(from: "a.txt", to: "b.txt"), .directoryRenamed(from: "dir", to: "other/dir")])
    }

    @Test func aRemovedFileIsPostedAndARemovedDirectoryIsNot() {
        observer.removed("dir/a.txt", isDirectory: false)
        observer.removed("dir", isDirectory: true)
        #expect(sink.events == [.removed("dir/a.txt")])
    }

    @Test func aCreatedDirectoryPostsNothing() {
        observer.directoryCreated("new")
        #expect(sink.events.isEmpty)
    }

    @Test(arguments: [("a.txt", "b.txt", ""), ("x/y/a.txt", "x/y/b.txt", "x/y/"), ("x/a", "z/b", "x/")])
    func anExchangeIsThreeRenamesThroughOneTemporaryNameBesideTheFirst(first: String, second: String, parent: String) throws {
        observer.exchanged(first, second)
        let events = sink.events
        try #require(events.count == 6)
        guard case .renamed(from: first, to: let temporary) = events[0] else {
            Issue.record("first event \(events[0]) is not a rename of \(first)")
            return
        }
        #expect(temporary.hasPrefix(parent + ".tusfs-exchange-"))
        #expect(!temporary.dropFirst(parent.count).contains("/"))
        #expect(events == [
            .renamed(from: first, to: temporary), .directoryRenamed(from: first, to: temporary),
            .renamed(from: second, to: first), .directoryRenamed(from: second, to: first),
            .renamed(from: temporary, to: second), .directoryRenamed(from: temporary, to: second),
        ])
    }

    @Test func everyExchangeHasATemporaryNameOfItsOwn() {
        observer.exchanged("a", "b")
        observer.exchanged("a", "b")
        let temporaries = sink.events.compactMap { event -> String? in
            if case .renamed(from: "a", to: let to) = event { return to }
            return nil
        }
        #expect(temporaries.count == 2)
        #expect(Set(temporaries).count == 2)
    }

    @Test func anExchangeOfTwoUploadedFilesLeavesEachRecordUnderTheOtherName() async throws {
        try await EngineFixture.with { fixture in
            try fixture.write("docs/a.txt", "first")
            try fixture.write("docs/b.txt", "second, longer")
            try await fixture.waitUntilReady(["docs/a.txt", "docs/b.txt"])
            let a = try #require(fixture.engine.currentStatus(of: "docs/a.txt"))
            let b = try #require(fixture.engine.currentStatus(of: "docs/b.txt"))
            let idA = try #require(a.remoteId)
            let idB = try #require(b.remoteId)
            let namesBefore = fixture.target.names

            // What the kernel did (renameat2 with RENAME_EXCHANGE), then what the mirror tells the observer.
            let cache = fixture.cacheRoot + "/docs/"
            try FileManager.default.moveItem(atPath: cache + "a.txt", toPath: cache + "swap")
            try FileManager.default.moveItem(atPath: cache + "b.txt", toPath: cache + "a.txt")
            try FileManager.default.moveItem(atPath: cache + "swap", toPath: cache + "b.txt")
            EngineObserver(events: fixture.engine).exchanged("docs/a.txt", "docs/b.txt")
            await fixture.engine.flush()

            let nowA = try #require(await fixture.engine.status(of: "docs/a.txt"))
            let nowB = try #require(await fixture.engine.status(of: "docs/b.txt"))
            #expect(nowA.remoteId == idB)
            #expect(nowA.size == b.size)
            #expect(nowB.remoteId == idA)
            #expect(nowB.size == a.size)
            #expect(await fixture.engine.summary().files.map(\.path).sorted() == ["docs/a.txt", "docs/b.txt"])
            try await waitUntil("the service has the files under each other's names") {
                fixture.target.names == [idA: namesBefore[idB]!, idB: namesBefore[idA]!]
            }
            #expect(fixture.target.names.count == 2)
        }
    }
}
