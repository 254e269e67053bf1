import Foundation
import GRDB
import TestSupport
import Testing
@testable import UploadEngine
import UploadStatus

@Suite("Upload journal migrations")
struct UploadJournalMigrationTests {
    /// A journal written before resume data was the target's own business (three named columns) opens with
    /// the same values under the same names, in records and in queued terminations.
    @Test func resumeColumnsOfAnOlderJournalBecomeResumeValues() throws {
        let directory = try TemporaryDirectory("journal")
        defer { directory.remove() }
        let path = directory.appending("journal.sqlite")
        do {
            let queue = try DatabaseQueue(path: path)
            try UploadJournal.migrator.migrate(queue, upTo: "v2: upload without rowid, no state index")
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO upload (path, state, size, uploadedBytes, attempts, updatedAt, generation, tusUploadURL, uploadToken)
                        VALUES ('a.mp4', 'uploading', 100, 40, 0, 0, 3, 'http://s/files/1', 'tok');
                        INSERT INTO upload (path, state, size, uploadedBytes, attempts, updatedAt, generation)
                        VALUES ('b.txt', 'ready', 5, 5, 0, 0, 1);
                        INSERT INTO remoteOperation (kind, plainUploadURL) VALUES ('terminate', 'http://s/put/2');
                        INSERT INTO remoteOperation (kind, remoteId) VALUES ('delete', 'r9');
                        """)
            }
        }
        let journal = try UploadJournal(path: path)
        let uploading = try #require(try journal.record(for: "a.mp4"))
        #expect(uploading.resume == ResumeData(["tusUploadURL": "http://s/files/1", "uploadToken": "tok"]))
        #expect(uploading.uploadedBytes == 40 && uploading.generation == 3)
        #expect(try journal.record(for: "b.txt")?.resume == nil)
        let operations = try journal.pendingOperations().map(\.operation)
        #expect(operations == [.terminate(ResumeData(["plainUploadURL": "http://s/put/2"])), .delete(remoteId: "r9")])
        // Written again, it reads back the same.
        try journal.save(uploading)
        #expect(try journal.record(for: "a.mp4") == uploading)
    }

    @Test func resumeValuesRoundTripThroughTheirJSON() {
        let data = ResumeData(["url": "http://s/files/1?a=b&c=\"d\"", "token": "line\nbreak\\"])
        #expect(data.json == #"{"token":"line\nbreak\\","url":"http://s/files/1?a=b&c=\"d\""}"#)
        #expect(ResumeData(json: data.json) == data)
        #expect(ResumeData(json: "{}") == nil)
        #expect(ResumeData(json: "not json") == nil)
    }
}
