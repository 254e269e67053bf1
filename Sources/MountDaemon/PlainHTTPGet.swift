import Foundation
import MirrorFilesystem
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A read-back's GET of a plain `http://` URL (the embedded service, a service on the local network), read on
/// the read-back's own thread with a blocking socket: each read of the socket goes straight into the cache file,
/// and the body reaches the hasher in reused pieces of up to 1 MiB. Through the HTTP client, the body comes in
/// parts of at most 64 KiB, each with an event-loop task and futures, which cost more CPU than the copying itself.
/// Only the plain case is read here: a 200 answer with a `Content-Length` and no transfer or content coding.
/// A redirect or any other body is left to the HTTP client (`leftToTheHTTPClient`), as is https.
enum PlainHTTPGet {
    enum Outcome {
        case read
        /// Nothing of the body was written: the HTTP client is to ask again.
        case leftToTheHTTPClient
    }

    /// The hasher's pieces (smaller for a smaller file), and the most read from the socket at once.
    static let bufferSize = 1 << 20
    /// As the HTTP client's (`HTTPClient.Configuration.tusfsCommand`).
    static let connectTimeout = 10
    static let readTimeout = 120
    /// An answer's head is at most this long.
    static let maximumHeadSize = 64 << 10

    /// Whether `url` is one read here: `http://` with a host and no user name.
    static func handles(_ url: URL) -> Bool {
        url.scheme?.lowercased() == "http" && !(url.host ?? "").isEmpty && url.user == nil
    }

    /// GETs `url` into `body`. The request goes out first; `prepare` runs while it is on its way (unless
    /// `prepared`). `shown` is what errors name.
    static func read(
        _ url: URL, shown: String, into body: ReadBackBody, prepare: () throws(ReadBackError) -> Void, prepared: inout Bool
    ) throws(ReadBackRefusal) -> Outcome {
        func failure(_ message: String) -> ReadBackRefusal {
            ReadBackRefusal(status: 0, error: ReadBackError("GET \(shown): \(message)"))
        }
        let socket = try connect(to: url, failure: failure)
        defer { close(socket) }
        try send(Array(request(for: url).utf8), on: socket, failure: failure)
        if !prepared {
            do {
                try prepare()
                prepared = true
            } catch {
                throw ReadBackRefusal(status: 0, error: error)
            }
        }
        var buffer = ByteBufferAllocator().buffer(capacity: 16 << 10)
        let head = try readHead(from: socket, into: &buffer, failure: failure)
        if (300..<400).contains(head.status) { return .leftToTheHTTPClient }
        guard head.status == 200 else {
            throw ReadBackRefusal(
                status: UInt(head.status), error: ReadBackError("GET \(shown): the service answered \(head.status) \(head.reason)"))
        }
        let coded = head.header("transfer-encoding") != nil
            || head.header("content-encoding").map { $0.lowercased() != "identity" } ?? false
        guard !coded, head.header("content-length") != nil else { return .leftToTheHTTPClient }
        do {
            try body.begin(header: head.header)
            try readBody(from: socket, after: buffer, into: body, failure: failure)
            try body.end()
            try body.verify()
        } catch let error as ReadBackRefusal {
            throw error
        } catch let error as ReadBackError {
            throw ReadBackRefusal(status: 0, error: error)
        } catch {
            throw failure("\(error)")
        }
        return .read
    }

    /// Reads the body into the cache file as it comes (the bytes that came with the head are in `head`): each
    /// read of the socket is written at once (readers wait for it), into one of a few pieces (up to 1 MiB) that go to
    /// the hasher once full and come back once hashed (allocated once: memory freshly mapped for every piece
    /// would cost a page fault per 4 KiB). A piece not back yet holds the socket's reader back.
    private static func readBody(
        from socket: Int32, after head: ByteBuffer, into body: ReadBackBody, failure: (String) -> ReadBackRefusal
    ) throws {
        // A small file gets small pieces; a piece always holds what came with the head (at most two reads of
        // `maximumHeadSize`).
        let pieceSize = Int(min(Int64(bufferSize), max(Int64(2 * maximumHeadSize), body.size)))
        let pieces = Pieces(count: body.isHashed ? 4 : 1, size: pieceSize)
        var piece = pieces.take()
        var held = true  // `piece` is ours, not the hasher's
        defer {
            if held { pieces.give(back: piece) }
            pieces.release()
        }
        var filled = head.withUnsafeReadableBytes { bytes in
            pieces.memory(piece).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(pieceSize)))
            return min(bytes.count, pieceSize)
        }
        try body.write(UnsafeRawBufferPointer(rebasing: pieces.memory(piece)[0..<filled]))
        var received = Int64(filled)
        func handOver() {
            let taken = piece
            held = false
            body.hash(UnsafeRawBufferPointer(rebasing: pieces.memory(taken)[0..<filled])) { pieces.give(back: taken) }
        }
        while received < body.size {
            if filled == pieceSize {
                handOver()
                piece = pieces.take()
                held = true
                filled = 0
            }
            let space = pieces.memory(piece)
            let wanted = Int(min(Int64(pieceSize - filled), body.size - received))
            let count = recv(socket, space.baseAddress! + filled, wanted, 0)
            if count == 0 { break }  // closed early: `end()` says how short
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw failure("no data for \(readTimeout) s") }
                throw failure(String(cString: strerror(errno)))
            }
            try body.write(UnsafeRawBufferPointer(rebasing: space[filled..<(filled + count)]))
            filled += count
            received += Int64(count)
        }
        handOver()
    }

    /// A few pieces of memory lent in turn to the hasher: `take` waits until one is back.
    private final class Pieces: Sendable {
        private let storage: Storage
        private let free: Mutex<[Int]>
        private let available: DispatchSemaphore
        private let count: Int
        private let size: Int

        private struct Storage: @unchecked Sendable {
            let memory: UnsafeMutableRawBufferPointer
        }

        init(count: Int, size: Int) {
            self.count = count
            self.size = size
            storage = Storage(memory: .allocate(byteCount: count * size, alignment: 64))
            free = Mutex(Array(0..<count))
            available = DispatchSemaphore(value: count)
        }

        func memory(_ piece: Int) -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(rebasing: storage.memory[(piece * size)..<((piece + 1) * size)])
        }

        func take() -> Int {
            available.wait()
            return free.withLock { $0.removeLast() }
        }

        func give(back piece: Int) {
            free.withLock { $0.append(piece) }
            available.signal()
        }

        /// Waits until every piece is back (the hasher is done with them all), then frees the memory.
        func release() {
            for _ in 0..<count { available.wait() }
            storage.memory.deallocate()
            // libdispatch traps when a semaphore is freed below the value it was made with.
            for _ in 0..<count { available.signal() }
        }
    }

    // MARK: the connection

    private static func request(for url: URL) -> String {
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        var target = components?.percentEncodedPath ?? "/"
        if target.isEmpty { target = "/" }
        if let query = components?.percentEncodedQuery { target += "?" + query }
        var host = url.host ?? ""
        if host.contains(":") { host = "[\(host)]" }  // an IPv6 address
        if let port = url.port { host += ":\(port)" }
        return "GET \(target) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: tusfs\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n"
    }

    /// A connected TCP socket to the URL's host (each of its addresses in turn), with the timeouts set.
    private static func connect(to url: URL, failure: (String) -> ReadBackRefusal) throws(ReadBackRefusal) -> Int32 {
        let host = (url.host ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let port = String(url.port ?? 80)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var addresses: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, port, &hints, &addresses)
        guard resolved == 0, let first = addresses else {
            throw failure("cannot resolve \(host): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(first) }
        var lastError = ECONNREFUSED
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let address = next {
            next = address.pointee.ai_next
            let socket = Glibc.socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard socket >= 0 else {
                lastError = errno
                continue
            }
            // On Linux the send timeout also bounds connect().
            setTimeout(SO_SNDTIMEO, seconds: connectTimeout, on: socket)
            setTimeout(SO_RCVTIMEO, seconds: readTimeout, on: socket)
            var on: Int32 = 1
            _ = setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(socket, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 {
                setTimeout(SO_SNDTIMEO, seconds: readTimeout, on: socket)
                return socket
            }
            lastError = errno
            close(socket)
        }
        throw failure("cannot connect to \(host):\(port): \(String(cString: strerror(lastError)))")
    }

    private static func setTimeout(_ option: Int32, seconds: Int, on socket: Int32) {
        var time = timeval(tv_sec: seconds, tv_usec: 0)
        _ = setsockopt(socket, SOL_SOCKET, option, &time, socklen_t(MemoryLayout<timeval>.size))
    }

    private static func send(_ bytes: [UInt8], on socket: Int32, failure: (String) -> ReadBackRefusal) throws(ReadBackRefusal) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("sending the request: \(String(cString: strerror(errno)))")
            }
            sent += count
        }
    }

    /// An answer's status line and headers.
    struct Head {
        var status: Int
        var reason: String
        /// By lowercase name, the first of each.
        var headers: [String: String]

        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    /// Reads until the end of the answer's head; leaves what came after it (the body's first bytes) readable in
    /// `buffer`.
    private static func readHead(
        from socket: Int32, into buffer: inout ByteBuffer, failure: (String) -> ReadBackRefusal
    ) throws(ReadBackRefusal) -> Head {
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            let length = buffer.withUnsafeReadableBytes { bytes -> Int? in
                guard bytes.count >= end.count else { return nil }
                for index in 0...(bytes.count - end.count) where bytes[index] == 13 && bytes[index + 1] == 10
                    && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                    return index + end.count
                }
                return nil
            }
            if let length {
                let text = buffer.readString(length: length) ?? ""
                guard let head = parse(text) else { throw failure("not an HTTP answer") }
                return head
            }
            guard buffer.readableBytes < maximumHeadSize else { throw failure("the answer's head is over \(maximumHeadSize) bytes") }
            var count = 0
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 << 10) { space in
                count = recv(socket, space.baseAddress, min(space.count, maximumHeadSize), 0)
                return max(count, 0)
            }
            if count == 0 { throw failure("the connection closed before an answer") }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw failure("no answer for \(readTimeout) s") }
                throw failure(String(cString: strerror(errno)))
            }
        }
    }

    /// `HTTP/1.1 200 OK` and `Name: value` lines.
    static func parse(_ text: String) -> Head? {
        var lines = text.components(separatedBy: "\r\n")
        guard !lines.isEmpty else { return nil }
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), statusLine[1].count == 3,
            let status = Int(statusLine[1])
        else { return nil }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon].lowercased()
            if headers[name] == nil {
                headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return Head(status: status, reason: statusLine.count > 2 ? String(statusLine[2]) : "", headers: headers)
    }
}
