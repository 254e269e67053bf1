import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection to `127.0.0.1:port` that sends exactly the bytes a test gives it: half a request, a body in
/// slow pieces, a request on a connection the server has not accepted yet. Close it with ``close()``.
public final class RawConnection: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    private var closed = false

    /// Connects (the kernel completes the handshake even while the server does not accept).
    public init(port: Int, host: String = "127.0.0.1") throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(host)
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            Glibc.close(fd)
            throw TestFailure("cannot connect to \(host):\(port): errno \(errno)")
        }
    }

    deinit { close() }

    /// Sends `text` (UTF-8).
    public func send(_ text: String) throws { try send(Data(text.utf8)) }

    /// Sends `data`; throws when the server closed the connection.
    public func send(_ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + done, raw.count - done, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw TestFailure("send failed: errno \(errno)")
                }
                done += n
            }
        }
    }

    /// What arrives within `timeout` seconds, up to the end of an HTTP response head and its `Content-Length` body
    /// (or until the server closes the connection). Empty when nothing came.
    public func receiveResponse(timeout: Double) -> String {
        var bytes = Data()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard let chunk = read(waitingUpTo: deadline), !chunk.isEmpty else { break }
            bytes.append(chunk)
            let text = String(decoding: bytes, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n") {
                let head = text[..<end.lowerBound].lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.count - text[..<end.upperBound].utf8.count >= length { break }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether the server closed the connection within `timeout` seconds (reading and discarding what it sends).
    public func waitUntilClosed(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard let chunk = read(waitingUpTo: deadline) else { continue }
            if chunk.isEmpty { return true }
        }
        return false
    }

    /// One read: nil when nothing arrived before `deadline`, empty at end of stream or on a reset.
    private func read(waitingUpTo deadline: Date) -> Data? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(0, min(deadline.timeIntervalSinceNow, 1) * 1000))
        let ready = poll(&poller, 1, milliseconds)
        guard ready > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { return n < 0 && (errno == EINTR || errno == EAGAIN) ? nil : Data() }
        return Data(buffer[0..<n])
    }

    /// Closes the connection (again is harmless).
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }
}
