import Testing
@testable import UploadEngine

@Suite("Transfer slots and request tokens")
struct TransferSlotsTests {
    @Test func filesGetSlotsOldestFirstAndNeverMoreThanTheCapacity() {
        var slots = TransferSlots<Int>(capacity: 2)
        for path in ["a", "b", "c", "a"] { slots.enqueue(path) }
        #expect(slots.nextWaiting() == "a")
        slots.transferStarted()
        #expect(slots.nextWaiting() == "b")
        slots.transferStarted()
        #expect(slots.nextWaiting() == nil, "both slots are taken")
        slots.transferEnded()
        #expect(slots.nextWaiting() == "c", "a file queued twice waits once")
        slots.transferStarted()
        slots.transferEnded()
        #expect(slots.nextWaiting() == nil)
    }

    @Test func aFileThatLeavesTheQueueIsNotGranted() {
        var slots = TransferSlots<Int>(capacity: 4)
        slots.enqueue("a")
        slots.enqueue("b")
        slots.leaveQueue("a")
        #expect(slots.nextWaiting() == "b")
        #expect(slots.nextWaiting() == nil)
        slots.enqueue("a")
        #expect(slots.nextWaiting() == "a", "it may queue again")
    }

    @Test func aResultFindsItsFileAfterARenameAndAReplacedRequestIsStale() {
        var slots = TransferSlots<Int>(capacity: 4)
        let first = slots.takeToken()
        slots.setRequest(.init(token: first, handle: 1), at: ".a.XyZ")
        #expect(slots.moveRequest(from: ".a.XyZ", to: "a") == nil)
        #expect(slots.path(of: first, or: ".a.XyZ") == "a")
        #expect(slots.isCurrent(first, at: "a"))

        let second = slots.takeToken()
        #expect(second != first)
        slots.setRequest(.init(token: second, handle: 2), at: "a")
        #expect(!slots.isCurrent(first, at: "a"))
        #expect(slots.path(of: first, or: "old") == "old", "a replaced request is no longer tracked")
        #expect(slots.removeRequest(at: "a")?.handle == 2)
        #expect(slots.request(at: "a") == nil)
    }

    @Test func movingOntoAFileWithARequestHandsBackTheDisplacedOne() {
        var slots = TransferSlots<Int>(capacity: 4)
        slots.setRequest(.init(token: slots.takeToken(), handle: 1), at: "from")
        slots.setRequest(.init(token: slots.takeToken(), handle: 2), at: "to")
        #expect(slots.moveRequest(from: "from", to: "to")?.handle == 2)
        #expect(slots.request(at: "to")?.handle == 1)
        #expect(slots.request(at: "from") == nil)
    }

    @Test func progressCountsOnlyNewBytesOfTheCurrentRequest() {
        var slots = TransferSlots<Int>(capacity: 4)
        let token = slots.takeToken()
        slots.setRequest(.init(token: token, handle: 1), at: "a")
        #expect(slots.recordProgress(500, token: token, at: "a") == 0, "the first report may be a resumed offset")
        #expect(slots.recordProgress(800, token: token, at: "a") == 300)
        #expect(slots.recordProgress(700, token: token, at: "a") == nil, "an offset going back is stale")
        #expect(slots.recordProgress(900, token: token + 1, at: "a") == nil, "another request's report")
        #expect(slots.request(at: "a")?.progress == 800)

        let fresh = slots.takeToken()
        slots.setRequest(.init(token: fresh, handle: 2, started: true), at: "b")
        #expect(slots.recordProgress(100, token: fresh, at: "b") == 100, "a new upload counts from zero")
    }

    @Test func removeAllHandsBackEveryRunningRequestAndKeepsTheSlotsTaken() {
        var slots = TransferSlots<Int>(capacity: 1)
        slots.enqueue("w")
        slots.transferStarted()
        slots.setRequest(.init(token: slots.takeToken(), handle: 7), at: "a")
        #expect(slots.removeAll() == [7])
        #expect(slots.running == 1, "the cancelled transfer gives its slot back when it ends")
        slots.transferEnded()
        #expect(slots.nextWaiting() == nil, "the queue was emptied")
    }
}

@Suite("Small files and large ones wait in two lines")
struct TransferSlotLaneTests {
    @Test func smallFilesNeverWaitBehindALargeOne() {
        var slots = TransferSlots<Int>(capacity: 1)
        slots.enqueue("big-1")
        slots.enqueue("big-2")
        slots.enqueue("small-1", small: true)
        #expect(slots.nextWaiting(smallLimit: 8) == "small-1", "the small file goes first although it came last")
        slots.transferStarted(small: true)
        #expect(slots.nextWaiting(smallLimit: 8) == "big-1")
        slots.transferStarted()
        #expect(slots.nextWaiting(smallLimit: 8) == nil, "the one large slot is taken")
        for index in 2...5 { slots.enqueue("small-\(index)", small: true) }
        var started: [String] = []
        while let path = slots.nextWaiting(smallLimit: 3) {
            started.append(path)
            slots.transferStarted(small: true)
        }
        #expect(started == ["small-2", "small-3"], "small files run up to their limit, oldest first, the large slot taken")
        slots.transferEnded()
        #expect(slots.nextWaiting(smallLimit: 3) == "big-2", "the large file gets the freed large slot")
        slots.transferEnded(small: true)
        #expect(slots.nextWaiting(smallLimit: 3) == "small-4")
    }

    @Test func aPausedLimitHoldsSmallFilesButNotLargeOnes() {
        var slots = TransferSlots<Int>(capacity: 2)
        slots.enqueue("small", small: true)
        slots.enqueue("big")
        #expect(slots.nextWaiting(smallLimit: 0) == "big")
        slots.transferStarted()
        #expect(slots.nextWaiting(smallLimit: 0) == nil)
        #expect(slots.smallFilesWait)
        slots.leaveQueue("small")
        #expect(!slots.smallFilesWait)
        #expect(slots.waitingCount == 0)
    }
}
