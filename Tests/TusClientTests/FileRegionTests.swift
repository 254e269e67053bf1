import Foundation
import Synchronization
import TestSupport
import Testing

@testable import TusClient

/// The descriptor a `sendfile` request body owns.
@Suite("file regions sent with sendfile")
struct FileRegionTests {
    /// Found by the fault-injection tests: a request that failed early was closed while its `sendfile` still ran
    /// on the event loop; NIO refused that close (EBUSY), the descriptor stayed open and NIO's leak check
    /// crashed the debug build (a release build leaked the descriptor).
    @Test("closing a region while the event loop uses its descriptor waits for that use, then closes it")
    func closeWhileInUse() throws {
        let directory = try TemporaryDirectory("region")
        defer { directory.remove() }
        let path = directory.appending("data.bin")
        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: path))
        let region = try ReadOnlyFile(path: path).sendableRegion(offset: 0, count: 4096)
        let closed = Mutex(false)
        let closer = Thread {
            region.close()
            closed.withLock { $0 = true }
        }
        try region.handle.withUnsafeFileDescriptor { descriptor in
            closer.start()
            Thread.sleep(forTimeInterval: 0.2)
            #expect(closed.withLock { $0 } == false, "close returned while the descriptor was in use")
            #expect(fcntl(descriptor, F_GETFD) >= 0, "the descriptor was closed under its user")
        }
        let deadline = Date().addingTimeInterval(10)
        while !closed.withLock({ $0 }), Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(closed.withLock { $0 })
        #expect(!region.handle.isOpen)
        region.close()  // a second close does nothing
    }
}
