import Testing
@testable import UploadEngine

@Suite("File timers (one queue for every file's timer)")
struct FileTimersTests {
    let start = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    @Test func dueTimersComeOutEarliestFirstAndOnlyOnce() {
        var timers = FileTimers<String>()
        timers.set("c", due: at(30), token: 1, action: "fire c")
        timers.set("a", due: at(10), token: 2, action: "fire a")
        timers.set("b", due: at(20), token: 3, action: "fire b")
        #expect(timers.earliestDue() == at(10))
        #expect(timers.popDue(at: at(5)) == nil)
        var fired: [String] = []
        while let (path, action) = timers.popDue(at: at(25)) { fired.append("\(path): \(action)") }
        #expect(fired == ["a: fire a", "b: fire b"])
        #expect(timers.count == 1)
        #expect(timers.earliestDue() == at(30))
        #expect(timers.popDue(at: at(30))?.path == "c")
        #expect(timers.popDue(at: at(1_000)) == nil)
        #expect(timers.earliestDue() == nil)
    }

    @Test func aNewTimerReplacesTheFilesOldOneAndCancelledTimersNeverFire() {
        var timers = FileTimers<Int>()
        timers.set("a", due: at(10), token: 1, action: 1)
        timers.set("a", due: at(50), token: 2, action: 2)  // replaces the first
        timers.set("b", due: at(20), token: 3, action: 3)
        timers.cancel("b")
        #expect(timers.count == 1)
        #expect(timers.earliestDue() == at(50), "the replaced and the cancelled timer are skipped")
        #expect(timers.popDue(at: at(40)) == nil)
        let due = timers.popDue(at: at(60))
        #expect(due?.path == "a" && due?.action == 2)
        timers.set("c", due: at(70), token: 4, action: 4)
        timers.removeAll()
        #expect(timers.earliestDue() == nil)
        #expect(timers.popDue(at: at(100)) == nil)
    }

    @Test func manyTimersInRandomOrderComeOutSorted() {
        var timers = FileTimers<Int>()
        var generator = SystemRandomNumberGenerator()
        let dues = (0..<1_000).map { _ in Int.random(in: 0..<10_000, using: &generator) }
        for (index, due) in dues.enumerated() { timers.set("f\(index)", due: at(due), token: UInt64(index), action: due) }
        var fired: [Int] = []
        while let (_, due) = timers.popDue(at: at(10_000)) { fired.append(due) }
        #expect(fired == dues.sorted())
    }
}
