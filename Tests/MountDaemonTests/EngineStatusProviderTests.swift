import FUSEAdapter
import Foundation
import MirrorFilesystem
import MountDaemon
import Testing
import UploadEngine
import UploadStatus

@Suite("Engine status provider: the mount's status surface from the engine")
struct EngineStatusProviderTests {
    @Test func attributesAreTheRecordsWithoutTheUserTusfsPrefix() async throws {
        try await EngineFixture.with { fixture in
            try fixture.write("a.txt", "hello")
            try await fixture.waitUntilReady(["a.txt"])
            let record = try #require(fixture.engine.currentStatus(of: "a.txt"))
            let attributes = try #require(EngineStatusProvider(engine: fixture.engine).statusAttributes(of: "a.txt"))
            #expect(attributes.map(\.name) == record.statusAttributes.map { String($0.name.dropFirst("user.tusfs.".count)) })
            #expect(attributes.map(\.name).starts(with: ["state", "progress", "remote_id"]))
            #expect(attributes.map(\.value) == record.statusAttributes.map(\.value))
            #expect(attributes.first?.value == "ready")
        }
    }

    @Test func theSidecarAndTheStatusDocumentEndWithANewline() async throws {
        try await EngineFixture.with { fixture in
            try fixture.write("dir/a.txt", "hello")
            try await fixture.waitUntilReady(["dir/a.txt"])
            let provider = EngineStatusProvider(engine: fixture.engine)
            let sidecar = try #require(provider.sidecar(of: "dir/a.txt"))
            #expect(sidecar.last == UInt8(ascii: "\n"))
            let object = try JSONSerialization.jsonObject(with: Data(sidecar)) as? [String: Any]
            #expect(object?["state"] as? String == "ready")
            let document = provider.statusDocument(under: "").readAll()
            #expect(document.last == UInt8(ascii: "\n"))
            let report = try UploadStatusReport.decode(Data(document))
            #expect(report.files.map(\.path) == ["dir/a.txt"])
            let listing = try UploadStatusReport.decode(Data(provider.statusDocument(under: "dir").readAll()))
            #expect(listing.files.map(\.path) == ["dir/a.txt"] && listing.files_total == 1)
            #expect(try UploadStatusReport.decode(Data(provider.statusDocument(under: "other").readAll())).files.isEmpty)
            let summary = try SubtreeSummary.decode(provider.subtreeSummary(of: "dir"))
            #expect(summary.files == 1)
        }
    }

    @Test func aPathTheEngineDoesNotKnowHasNoStatus() async throws {
        try await EngineFixture.with { fixture in
            let provider = EngineStatusProvider(engine: fixture.engine)
            #expect(provider.statusAttributes(of: "missing.txt") == nil)
            #expect(provider.sidecar(of: "missing.txt") == nil)
        }
    }

    @Test func retryingAnUnknownPathAnswersNoDataAndAKnownOneIsPosted() async throws {
        try await EngineFixture.with { fixture in
            let provider = EngineStatusProvider(engine: fixture.engine)
            #expect(throws: FilesystemError.noData) { try provider.retry("missing.txt") }
            try fixture.write("a.txt", "hello")
            try await fixture.waitUntilReady(["a.txt"])
            try provider.retry("a.txt")
            await fixture.engine.flush()
            #expect(fixture.engine.currentStatus(of: "a.txt")?.state == .ready)
        }
    }
}
