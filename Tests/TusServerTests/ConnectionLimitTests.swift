import Foundation
import TestSupport
import Testing
import TusServer

/// Connections that send nothing, or half a request, are closed after the idle timeout; a body that keeps moving
/// is not; and past the connection limit new connections wait until one closes.
@Suite struct ConnectionLimitTests {
    @Test func idleAndHalfSentConnectionsAreClosed() async throws {
        try await withTusServer(limits: ConnectionLimits(idleTimeout: .seconds(1))) { server in
            let port = server.endpoint.port!
            let closed = try await offPool {
                var connections: [RawConnection] = []
                defer { connections.forEach { $0.close() } }
                for index in 0..<40 {
                    let connection = try RawConnection(port: port)
                    switch index % 4 {
                    case 0: break  // sends nothing
                    case 1: try connection.send("OPTIONS /files HTTP/1.1\r\nHost: 127.0.0.1\r\n")  // half a head
                    case 2: try connection.send("PATCH /files/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nab")  // half a body
                    default:  // a finished request, then silence on the kept-alive connection
                        try connection.send("OPTIONS /files HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    }
                    connections.append(connection)
                }
                // Generous: the timeout is 1 s. One deadline for all, so a server that never closes fails in 30 s.
                let deadline = Date().addingTimeInterval(30)
                return connections.map { $0.waitUntilClosed(timeout: deadline.timeIntervalSinceNow) }
            }
            #expect(closed.allSatisfy { $0 }, "\(closed.filter { !$0 }.count) of \(closed.count) connections still open")
            let options = try await HTTPTestClient.send("OPTIONS", server.endpoint)
            #expect(options.status == 204, "the server still answers")
        }
    }

    @Test func aSlowButMovingBodyIsNotCutOff() async throws {
        try await withTusServer(limits: ConnectionLimits(idleTimeout: .seconds(2))) { server in
            let created = try await HTTPTestClient.send("POST", server.endpoint, headers: tus.with(["Upload-Length": "12"]))
            let upload = try server.uploadURL(created.header("Location"))
            let answer = try await offPool {
                let connection = try RawConnection(port: upload.port!)
                defer { connection.close() }
                try connection.send(
                    "PATCH \(upload.path) HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                        + "Content-Type: application/offset+octet-stream\r\nContent-Length: 12\r\n\r\n")
                // 12 bytes over 3 s: longer than the idle timeout in all, never idle for that long.
                for byte in "hello world!" {
                    usleep(250_000)
                    try connection.send(String(byte))
                }
                return connection.receiveResponse(timeout: 30)
            }
            #expect(answer.hasPrefix("HTTP/1.1 204"), "\(answer)")
            #expect(server.storedData(upload) == Data("hello world!".utf8))
        }
    }

    @Test func connectionsPastTheLimitWaitForAFreeSlot() async throws {
        try await withTusServer(limits: ConnectionLimits(maxConnections: 2)) { server in
            let port = server.endpoint.port!
            let request = "OPTIONS /files HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            let (waited, answeredAfterClose) = try await offPool { () -> (String, String) in
                let first = try RawConnection(port: port)
                let second = try RawConnection(port: port)
                defer { first.close(); second.close() }
                for connection in [first, second] {
                    try connection.send(request)
                    guard connection.receiveResponse(timeout: 30).hasPrefix("HTTP/1.1 204") else { throw TestFailure("no answer") }
                }
                let third = try RawConnection(port: port)  // completes in the kernel's backlog
                defer { third.close() }
                try third.send(request)
                // The server keeps answering the connections it has…
                for _ in 0..<3 {
                    try second.send(request)
                    guard second.receiveResponse(timeout: 30).hasPrefix("HTTP/1.1 204") else { throw TestFailure("no answer") }
                }
                // …but not the third, until one of them closes.
                let waited = third.receiveResponse(timeout: 1)
                first.close()
                return (waited, third.receiveResponse(timeout: 30))
            }
            #expect(waited.isEmpty, "a third connection was served past the limit of 2: \(waited)")
            #expect(answeredAfterClose.hasPrefix("HTTP/1.1 204"), "\(answeredAfterClose)")
        }
    }
}
