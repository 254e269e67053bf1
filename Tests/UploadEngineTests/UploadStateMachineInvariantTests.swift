import Foundation
import Testing
@testable import UploadEngine
import Timekeeping
import UploadStatus

/// Random event sequences (seeded) against the state machine: whatever happens, its invariants hold.
@Suite("Upload state machine invariants")
struct UploadStateMachineInvariantTests {
    func randomEvent(for record: UploadRecord, using random: inout SplitMix64) -> UploadEvent {
        // Results mostly for the current generation, sometimes for a stale one.
        let generation = Int.random(in: 0..<5, using: &random) == 0 ? record.generation - 1 : record.generation
        let resume = ResumeData(tusUploadURL: "u\(Int.random(in: 0..<100, using: &random))")
        let file = RemoteFile(remoteId: "r\(Int.random(in: 0..<100, using: &random))", needsProcessing: Bool.random(using: &random))
        let choices: [UploadEvent] = [
            .written, .closed(size: Int64.random(in: 0..<1000, using: &random)), .writeBackElapsed,
            .slotGranted(size: Int64.random(in: 0..<1000, using: &random)), .uploadProgress(generation: generation, bytes: 10),
            .uploadCreated(generation: generation, resume), .uploadFinished(generation: generation, .needsFinalize),
            .uploadFinished(generation: generation, .stored(file)), .finalizeFinished(generation: generation, file),
            .processingResult(generation: generation, .pending), .processingResult(generation: generation, .ready(url: "x")),
            .processingResult(generation: generation, .failed(reason: "bad")),
            .uploadFailed(generation: generation, .retryable("net")), .uploadFailed(generation: generation, .permanent("no")),
            .retryRequested, .retryTimerElapsed, .renamed(to: "p\(Int.random(in: 0..<3, using: &random))"), .restarted,
        ]
        return choices.randomElement(using: &random)!
    }

    @Test(arguments: 0..<20)
    func invariantsHoldForRandomEventSequences(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed))
        let machine = UploadStateMachine(
            writeBackDelay: .seconds(1), retryPolicy: RetryPolicy(base: .seconds(1), cap: .seconds(8), maxAttempts: 4))
        var now = Date(timeIntervalSince1970: 1_800_000_000)
        var record = machine.newRecord(path: "p0", now: now)
        for _ in 0..<500 {
            now = now.addingTimeInterval(Double.random(in: 0..<3, using: &random))
            let event = randomEvent(for: record, using: &random)
            let (next, actions) = machine.transition(record, event, now: now)
            let context = "\(record.state) + \(event) → \(next.state) \(actions)"

            if actions.contains(.forget) {
                #expect(actions.first == .forget, "\(context)")
                record = machine.newRecord(path: "p0", now: now)
                continue
            }
            let changed = next.state != record.state || next.path != record.path || next.generation != record.generation
                || next.resume != record.resume || next.remoteId != record.remoteId
            // Every change is journalled, except pending → uploading with nothing else changed (a restart
            // handles both states alike).
            let unjournalledStart = record.state == .pending && next.state == .uploading && next.resume == record.resume
            if changed && !unjournalledStart { #expect(actions.first == .persist, "\(context)") }
            #expect(actions.filter { $0 == .persist }.count <= 1, "\(context)")

            if [.processing, .ready].contains(next.state) { #expect(next.remoteId != nil, "\(context)") }
            if next.state == .local { #expect(next.resume == nil && next.remoteId == nil, "\(context)") }
            if next.nextAttemptAt != nil { #expect(next.state == .failed, "\(context)") }
            if next.state == .failed && next.nextAttemptAt != nil { #expect(next.attempts < 4, "\(context)") }
            #expect(next.uploadedBytes >= 0)

            let starts = actions.filter { if case .startUpload = $0 { true } else { false } }
            if !starts.isEmpty { #expect(record.state == .pending && next.state == .uploading && starts.count == 1, "\(context)") }
            if actions.contains(.cancelUpload) { #expect([.uploading, .finalizing].contains(record.state), "\(context)") }

            if event == .written && record.state != .local {
                #expect(next.generation == record.generation + 1, "\(context)")
            } else {
                #expect(next.generation == record.generation, "\(context)")
            }
            if case .uploadFailed(let generation, _) = event, generation != record.generation { #expect(actions.isEmpty, "\(context)") }
            record = next
        }
    }
}
