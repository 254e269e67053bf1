import Synchronization
import Testing
@testable import UploadEngine
import UploadStatus

@Suite("Remote operation outbox")
struct RemoteOperationOutboxTests {
    /// Operations on one remote file run in the order queued, each after the one before has ended; an
    /// operation on another file does not wait for them.
    @Test func operationsOnOneSubjectRunInOrder() async {
        let log = Mutex<[String]>([])
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        var outbox = RemoteOperationOutbox()
        let first = PendingRemoteOperation(id: 1, operation: .rename(remoteId: "r1", newPath: "b"))
        let second = PendingRemoteOperation(id: 2, operation: .rename(remoteId: "r1", newPath: "c"))
        let other = PendingRemoteOperation(id: 3, operation: .delete(remoteId: "r2"))
        let ended = AsyncStream.makeStream(of: Int64.self)
        outbox.start(
            first,
            perform: {
                for await _ in gate { break }  // held until the test opens the gate
                log.withLock { $0.append("rename b") }
            }, ended: { ended.continuation.yield(1) })
        outbox.start(second, perform: { log.withLock { $0.append("rename c") } }, ended: { ended.continuation.yield(2) })
        outbox.start(other, perform: { log.withLock { $0.append("delete r2") } }, ended: { ended.continuation.yield(3) })
        #expect(outbox.isRunning(1) && outbox.isRunning(2) && outbox.isRunning(3))

        var iterator = ended.stream.makeAsyncIterator()
        #expect(await iterator.next() == 3, "another file's operation does not wait")
        open.yield()
        #expect(await iterator.next() == 1)
        #expect(await iterator.next() == 2)
        #expect(log.withLock { $0 } == ["delete r2", "rename b", "rename c"])

        for pending in [first, second, other] { outbox.finished(pending.id, subject: pending.operation.subject) }
        #expect(outbox.isEmpty)
    }

    @Test func terminationsOfOneUploadShareASubject() {
        let data = ResumeData(["url": "http://s/files/1", "token": "t"])
        #expect(RemoteOperation.terminate(data).subject == RemoteOperation.terminate(ResumeData(["token": "t", "url": "http://s/files/1"])).subject)
        #expect(RemoteOperation.terminate(data).subject != RemoteOperation.terminate(ResumeData(["url": "http://s/files/2"])).subject)
        #expect(RemoteOperation.delete(remoteId: "r1").subject == RemoteOperation.rename(remoteId: "r1", newPath: "x").subject)
    }
}
