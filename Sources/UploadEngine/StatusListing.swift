import Foundation
import Synchronization
import UploadStatus

/// One reading of `status.json` or of a directory's listing, produced a piece at a time: the opening with
/// the bytes pending, then the files a page of the journal at a time (``pageSize`` records, by path in byte
/// order), each with the copy held in memory in its place where there is one (fresher: upload progress),
/// then the totals. What a reading holds is one page and the files in memory under the directory; a listing
/// of a million files costs the daemon no more.
///
/// Each page is read as the journal is at that moment, so a reading is not one snapshot: a file that changes
/// state while the document is read shows the state of its page; the totals are those when reading began.
final class StatusListing: Sendable {
    /// Journal records read per page.
    static let pageSize = 512

    private enum Phase { case opening, files, closing, ended }

    private struct Cursor {
        var phase = Phase.opening
        /// The last path listed from the journal.
        var after: String?
        /// The held records, by path in byte order, and how many of them are listed.
        var held: [UploadRecord]
        var heldListed = 0
        var listed = 0
    }

    private let subtree: String
    private let journal: UploadJournal?
    private let summary: SubtreeSummary
    private let throughput: Double
    private let shown: @Sendable (UploadRecord) -> UploadRecord
    private let cursor: Mutex<Cursor>

    /// A reading of the files under `subtree` (`""`: the mount): the journal's, with `held` (the records in
    /// memory there) in place of theirs or beside them; `summary` gives the totals, `shown` the overlays.
    init(
        subtree: String, journal: UploadJournal?, held: [UploadRecord], summary: SubtreeSummary, throughput: Double,
        shown: @escaping @Sendable (UploadRecord) -> UploadRecord
    ) {
        self.subtree = subtree
        self.journal = journal
        self.summary = summary
        self.throughput = throughput
        self.shown = shown
        cursor = Mutex(Cursor(held: held.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }))
    }

    /// The next piece of the document; nil after its end.
    func next() -> [UInt8]? {
        cursor.withLock { cursor in
            var writer = StatusJSONWriter(capacity: 64 * 1024)
            switch cursor.phase {
            case .opening:
                writer.beginDocument(bytesPending: summary.bytes - summary.bytes_uploaded)
                cursor.phase = .files
            case .files:
                listPage(&cursor, into: &writer)
            case .closing:
                writer.endDocument(
                    filesTotal: cursor.listed, totals: summary.totals, service: summary.service ?? .reachable,
                    throughput: throughput, reconciling: summary.reconciling ?? false)
                cursor.phase = .ended
            case .ended:
                return nil
            }
            return writer.takeBytes()
        }
    }

    /// Lists the next page of the journal, merged with the held records that sort before its end (all that
    /// are left, after the journal's last page).
    private func listPage(_ cursor: inout Cursor, into writer: inout StatusJSONWriter) {
        let page = (try? journal?.records(under: subtree, after: cursor.after, limit: Self.pageSize)) ?? []
        let end = page.count == Self.pageSize ? page.last?.path : nil  // nil: the journal has no more
        func list(_ record: UploadRecord) {
            writer.listFile(shown(record), first: cursor.listed == 0)
            cursor.listed += 1
        }
        for record in page {
            while cursor.heldListed < cursor.held.count,
                cursor.held[cursor.heldListed].path.utf8.lexicographicallyPrecedes(record.path.utf8)
            {
                list(cursor.held[cursor.heldListed])
                cursor.heldListed += 1
            }
            if cursor.heldListed < cursor.held.count, cursor.held[cursor.heldListed].path == record.path {
                list(cursor.held[cursor.heldListed])
                cursor.heldListed += 1
            } else {
                list(record)
            }
        }
        if let end {
            cursor.after = end
        } else {
            while cursor.heldListed < cursor.held.count {
                list(cursor.held[cursor.heldListed])
                cursor.heldListed += 1
            }
            cursor.phase = .closing
        }
    }
}
