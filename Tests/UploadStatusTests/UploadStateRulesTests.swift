import Foundation
import Testing
import UploadStatus

@Suite("The shared counting rules")
struct UploadStateRulesTests {
    @Test func failedForGoodIsAFailedFileWithNoRetryScheduled() {
        #expect(UploadState.failed.isFailedForGood(retryScheduled: false))
        #expect(!UploadState.failed.isFailedForGood(retryScheduled: true))
        for state in UploadState.allCases where state != .failed {
            #expect(!state.isFailedForGood(retryScheduled: false))
        }
        var record = UploadRecord(path: "a", state: .failed)
        #expect(record.isFailedForGood)
        record.nextAttemptAt = Date()
        #expect(!record.isFailedForGood)
    }

    @Test func settledMeansReadyOrFailedForGood() {
        let settled = UploadState.allCases.filter { $0.isSettled(retryScheduled: false) }
        #expect(settled == [.ready, .failed])
        #expect(UploadState.allCases.filter { $0.isSettled(retryScheduled: true) } == [.ready])
    }

    @Test func workIsLeftWhileBytesOrAFinalizeOrAScheduledRetryWait() {
        #expect(UploadState.allCases.filter { $0.hasWorkLeft(retryScheduled: false) } == [.pending, .uploading, .finalizing])
        #expect(UploadState.allCases.filter { $0.hasWorkLeft(retryScheduled: true) } == [.pending, .uploading, .finalizing, .failed])
    }

    @Test func bytesPendingAndUploadedSplitTheSize() {
        for state in UploadState.allCases {
            let pending = state.bytesPending(size: 100, uploaded: 40)
            let uploaded = state.bytesUploaded(size: 100, uploaded: 40)
            #expect(pending + uploaded == 100, "\(state)")
            #expect(pending == (state.serviceHasAllBytes ? 0 : 60), "\(state)")
        }
        #expect(UploadState.uploading.bytesPending(size: 10, uploaded: 50) == 0)
        #expect(UploadState.uploading.bytesUploaded(size: 10, uploaded: -5) == 0)
    }

    @Test func countsAndSummariesCountTheSameWay() {
        let records = [
            UploadRecord(path: "b", state: .uploading, size: 100, uploadedBytes: 30),
            UploadRecord(path: "a", state: .ready, size: 50, uploadedBytes: 50),
            UploadRecord(path: "c/d", state: .failed, size: 10, uploadedBytes: 0),
        ]
        let counts = UploadCounts(counting: records)
        #expect(counts.bytesPending == 80)
        #expect(counts.files == [.local: 0, .pending: 0, .uploading: 1, .finalizing: 0, .processing: 0, .ready: 1, .failed: 1])
        let summary = UploadSummary(records: records, throughput: 2)
        #expect(summary.files.map(\.path) == ["a", "b", "c/d"])
        #expect(summary.counts == counts)
        var subtree = SubtreeSummary()
        for record in records { subtree.add(record) }
        #expect(subtree.bytes - subtree.bytes_uploaded == counts.bytesPending)
        #expect(subtree.failed_for_good == 1)
    }
}
