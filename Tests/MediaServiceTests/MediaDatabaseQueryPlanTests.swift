import Foundation
import MediaManagerAPI
import TestSupport
import Testing
@testable import MediaService

/// The service's listings at a million descriptors: each query walks an index in the order it returns and
/// stops after a page (no "SCAN" of the whole table, no temporary B-tree sorting every row).
@Suite("Media database query plans")
struct MediaDatabaseQueryPlanTests {
    static func withDatabase(_ body: (MediaDatabase) throws -> Void) throws {
        let directory = try TemporaryDirectory("plans")
        defer { directory.remove() }
        try body(MediaDatabase(path: directory.appending("media.sqlite")))
    }

    static func expectIndexed(_ plan: [String], using index: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(plan.contains { $0.contains("INDEX \(index)") }, "\(plan)", sourceLocation: sourceLocation)
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)", sourceLocation: sourceLocation)
        #expect(!plan.contains { $0.hasPrefix("SCAN file") && !$0.contains("INDEX") }, "\(plan)", sourceLocation: sourceLocation)
    }

    @Test func listingsWalkAnIndexInTheirOrder() throws {
        try Self.withDatabase { database in
            let folder = FileFilter(parentFolderId: "media-root")
            Self.expectIndexed(try database.queryPlan(ofFilesMatching: folder, sort: nil), using: "file_by_folder_and_update")
            Self.expectIndexed(
                try database.queryPlan(ofFilesMatching: folder, sort: Sorting(fieldName: "updatedDate", order: .ascending)),
                using: "file_by_folder_and_update")
            Self.expectIndexed(try database.queryPlan(ofFilesMatching: FileFilter(), sort: nil), using: "file_by_update")
            // A search scans names in the listing's order and stops after a page of matches.
            Self.expectIndexed(try database.queryPlan(ofFilesMatching: FileFilter(search: "cat"), sort: nil), using: "file_by_update")
            Self.expectIndexed(try database.queryPlan(ofFoldersIn: "media-root"), using: "folder_by_parent_and_update")
        }
    }

    @Test func lookupsUseAnIndex() throws {
        try Self.withDatabase { database in
            Self.expectIndexed(
                try database.queryPlan(ofSQL: "SELECT id FROM file WHERE operationStatus = ?", ["PENDING"]), using: "file_by_operation_status")
            Self.expectIndexed(
                try database.queryPlan(ofSQL: "SELECT id FROM folder WHERE parentFolderId = ? AND displayName = ? AND state = 'OK' LIMIT 1", ["a", "b"]),
                using: "folder_by_parent_and_name")
        }
    }
}
