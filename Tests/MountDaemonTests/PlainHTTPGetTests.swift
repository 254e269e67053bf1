import AsyncHTTPClient
import Crypto
import Foundation
import MirrorFilesystem
@testable import MountDaemon
import Synchronization
import Testing
import TusCore
#if canImport(Glibc)
import Glibc
#endif

/// The read-back's GET of a plain `http://` URL on its own thread, against a real socket on loopback that
/// answers with canned bytes.
@Suite("Plain HTTP GET of a read-back")
struct PlainHTTPGetTests {
    static let content: [UInt8] = (0..<(3 << 20) + 123).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
    static var sha256: String { SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined() }
    /// `x-amz-checksum-crc32` of the content: base64 of its CRC-32's 4 bytes, big-endian.
    static var crc32: String {
        var crc = CRC32()
        crc.update(content)
        return crc.digest.base64EncodedString()
    }

    /// Reads `size` bytes of an answer into a new cache file; the result and the file's bytes.
    func get(answer: [[UInt8]], size: Int = content.count) throws -> (Result<PlainHTTPGet.Outcome, ReadBackRefusal>, [UInt8], String) {
        let server = try CannedServer(answer: answer)
        defer { server.stop() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plain-get-\(UUID().uuidString)").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(descriptor >= 0)
        defer {
            close(descriptor)
            unlink(path)
        }
        let body = ReadBackBody(size: Int64(size), descriptor: descriptor, url: "the test URL", progress: { _ in })
        var prepared = false
        let url = URL(string: "http://127.0.0.1:\(server.port)/media/file?token=a%20b")!
        let result: Result<PlainHTTPGet.Outcome, ReadBackRefusal>
        do {
            result = .success(try PlainHTTPGet.read(url, shown: "the test URL", into: body, prepare: {}, prepared: &prepared))
        } catch {
            result = .failure(error)
        }
        #expect(prepared)
        var written = [UInt8](repeating: 0, count: size + 16)
        let count = pread(descriptor, &written, written.count, 0)
        return (result, Array(written[0..<max(count, 0)]), server.request())
    }

    static func head(_ lines: String...) -> [UInt8] { Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) }

    @Test func aWholeBodyWithItsHashIsWrittenAndTheRequestIsPlain() throws {
        let head = Self.head("HTTP/1.1 200 OK", "Content-Length: \(Self.content.count)", "ETag: \"\(Self.sha256)\"")
        // The head comes in two pieces, the first body bytes with its end, the rest in uneven pieces.
        let answer = [Array(head[0..<10]), Array(head[10...]) + Self.content[0..<5], Array(Self.content[5..<70_000]),
            Array(Self.content[70_000...])]
        let (result, written, request) = try get(answer: answer)
        guard case .success(.read) = result else {
            Issue.record("expected the body read, got \(result)")
            return
        }
        #expect(written == Self.content)
        #expect(request.hasPrefix("GET /media/file?token=a%20b HTTP/1.1\r\n"))
        #expect(request.contains("\r\nHost: 127.0.0.1:"))
    }

    /// The refusal `answer` gets; nil (and an issue recorded) when it is taken.
    func refusal(of answer: [[UInt8]]) throws -> ReadBackRefusal? {
        let (result, written, _) = try get(answer: answer)
        guard case .failure(let refusal) = result else {
            Issue.record("taken: \(result)")
            return nil
        }
        if refusal.status != 0 { #expect(written.isEmpty) }
        return refusal
    }

    @Test func aBodyOtherThanItsHashIsRefused() throws {
        let head = Self.head("HTTP/1.1 200 OK", "Content-Length: \(Self.content.count)", "ETag: \"\(String(repeating: "0", count: 64))\"")
        #expect(try refusal(of: [head + Self.content])?.error.description.contains("not the file") == true)
    }

    @Test func aBodyWithItsCRC32IsWrittenAndOneOtherThanItIsRefused() throws {
        // Both given: the CRC-32 is checked (the wrong ETag here would refuse the body if it were).
        let good = Self.head(
            "HTTP/1.1 200 OK", "Content-Length: \(Self.content.count)", "x-amz-checksum-crc32: \(Self.crc32)",
            "ETag: \"\(String(repeating: "0", count: 64))\"")
        let (result, written, _) = try get(answer: [good, Self.content])
        guard case .success(.read) = result else {
            Issue.record("expected the body read, got \(result)")
            return
        }
        #expect(written == Self.content)
        var other = CRC32()
        other.update(Self.content.dropLast())
        let bad = Self.head("HTTP/1.1 200 OK", "Content-Length: \(Self.content.count)", "X-Amz-Checksum-CRC32: \(other.digest.base64EncodedString())")
        let refused = try refusal(of: [bad + Self.content])?.error.description
        #expect(refused?.contains("not the file: CRC-32 ") == true, "\(refused ?? "")")
    }

    @Test func theDigestToCheckComesFromTheAnswersHeaders() {
        func expected(_ headers: [String: String]) -> ExpectedDigest? {
            ExpectedDigest { name in headers.first { $0.key.lowercased() == name }?.value }
        }
        let sha = String(repeating: "ab", count: 32)
        #expect(expected(["ETag": "\"\(sha.uppercased())\""]) == ExpectedDigest(algorithm: .sha256, hex: sha))
        #expect(expected(["ETag": "W/\"\(sha)\""]) == ExpectedDigest(algorithm: .sha256, hex: sha))
        #expect(expected(["x-amz-checksum-crc32": "AAECAw==", "ETag": sha]) == ExpectedDigest(algorithm: .crc32, hex: "00010203"))
        // Neither a digest of another length nor a checksum that is not 4 bytes is taken.
        #expect(expected(["ETag": "\"d41d8cd98f00b204e9800998ecf8427e\""]) == nil)
        #expect(expected(["x-amz-checksum-crc32": "AAECAwQ="]) == nil)
        #expect(expected(["x-amz-checksum-crc32": "not base64!", "ETag": sha]) == ExpectedDigest(algorithm: .sha256, hex: sha))
        #expect(expected([:]) == nil)
    }

    @Test func aShortBodyIsRefused() throws {
        let head = Self.head("HTTP/1.1 200 OK", "Content-Length: \(Self.content.count)")
        #expect(try refusal(of: [head + Self.content[0..<1000]])?.error.description.contains("short") == true)
    }

    @Test func aLengthOtherThanTheFilesIsRefused() throws {
        let head = Self.head("HTTP/1.1 200 OK", "Content-Length: 10")
        #expect(try refusal(of: [head + Array(repeating: 1, count: 10)])?.error.description.contains("10 bytes") == true)
    }

    @Test func aRefusalKeepsItsStatus() throws {
        let refused = try refusal(of: [Self.head("HTTP/1.1 403 Forbidden", "Content-Length: 0")])
        #expect(refused?.status == 403)
        #expect(refused?.error.description.contains("403 Forbidden") == true)
    }

    @Test(arguments: [
        ["HTTP/1.1 302 Found", "Location: http://127.0.0.1:1/elsewhere", "Content-Length: 0"],
        ["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"],
        ["HTTP/1.1 200 OK", "Content-Encoding: gzip", "Content-Length: 5"],
        ["HTTP/1.1 200 OK"],
    ])
    func redirectsAndCodedBodiesAreLeftToTheHTTPClientWithNothingWritten(_ lines: [String]) throws {
        let head = Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
        let (result, written, _) = try get(answer: [head + Array("0\r\n\r\n".utf8)])
        guard case .success(.leftToTheHTTPClient) = result else {
            Issue.record("expected the HTTP client to be left the answer, got \(result)")
            return
        }
        #expect(written.isEmpty)
    }

    @Test func whatIsNotAnHTTPAnswerIsRefused() throws {
        #expect(try refusal(of: [Array("SSH-2.0-OpenSSH\r\n\r\n".utf8)])?.error.description.contains("not an HTTP answer") == true)
    }

    @Test func onlyPlainHTTPURLsAreReadThisWay() {
        #expect(PlainHTTPGet.handles(URL(string: "http://127.0.0.1:8080/media/x")!))
        #expect(!PlainHTTPGet.handles(URL(string: "https://example.com/media/x")!))
        #expect(!PlainHTTPGet.handles(URL(string: "http://user@example.com/media/x")!))
    }
}

/// The read-back's GET through the HTTP client (what `PlainHTTPGet` leaves to it: https, a redirect, a chunked
/// body), against the same canned answers.
@Suite("Read-back through the HTTP client")
struct ReadBackWriterTests {
    func get(answer: [[UInt8]]) async throws -> (Result<Void, any Error>, [UInt8]) {
        let server = try CannedServer(answer: answer)
        defer { server.stop() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("client-get-\(UUID().uuidString)").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(descriptor >= 0)
        defer {
            close(descriptor)
            unlink(path)
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let writer = ReadBackWriter(
            ReadBackBody(size: Int64(PlainHTTPGetTests.content.count), descriptor: descriptor, url: "the test URL", progress: { _ in }))
        let request = try HTTPClient.Request(url: "http://127.0.0.1:\(server.port)/media/file")
        let task = http.execute(request: request, delegate: writer, eventLoop: .delegateAndChannel(on: http.eventLoopGroup.next()))
        writer.startWriting()
        let result: Result<Void, any Error>
        do {
            try await task.futureResult.get()
            try writer.body.verify()
            result = .success(())
        } catch {
            result = .failure(error)
        }
        try await http.shutdown()
        var written = [UInt8](repeating: 0, count: PlainHTTPGetTests.content.count + 16)
        let count = pread(descriptor, &written, written.count, 0)
        return (result, Array(written[0..<max(count, 0)]))
    }

    /// `size` bytes as HTTP/1.1 chunks of uneven sizes.
    static func chunked(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        var start = 0
        for size in [1, 100_000, 7, 1 << 20] + Array(repeating: 1 << 20, count: 4) where start < bytes.count {
            let end = min(bytes.count, start + size)
            out += Array((String(end - start, radix: 16) + "\r\n").utf8) + bytes[start..<end] + Array("\r\n".utf8)
            start = end
        }
        return out + Array("0\r\n\r\n".utf8)
    }

    @Test func aChunkedBodyWithItsHashIsWritten() async throws {
        let head = PlainHTTPGetTests.head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "ETag: \"\(PlainHTTPGetTests.sha256)\"")
        let (result, written) = try await get(answer: [head, Self.chunked(PlainHTTPGetTests.content)])
        #expect(throws: Never.self) { try result.get() }
        #expect(written == PlainHTTPGetTests.content)
    }

    @Test func aChunkedBodyOtherThanItsHashIsRefused() async throws {
        let head = PlainHTTPGetTests.head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "ETag: \"\(String(repeating: "1", count: 64))\"")
        let (result, _) = try await get(answer: [head, Self.chunked(PlainHTTPGetTests.content)])
        guard case .failure(let error as ReadBackError) = result else {
            Issue.record("a different body was taken: \(result)")
            return
        }
        #expect(error.description.contains("not the file"))
    }
}

/// A TCP server on loopback for one connection: reads the request's head, sends `answer` piece by piece
/// (a short pause between pieces), then closes.
final class CannedServer: Sendable {
    let port: UInt16
    private let listener: Int32
    private let received = Mutex("")
    private let done = DispatchSemaphore(value: 0)

    init(answer: [[UInt8]]) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 1) == 0 else {
            close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        self.listener = listener
        Thread { [self] in
            defer { done.signal() }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var request = [UInt8]()
            var chunk = [UInt8](repeating: 0, count: 4096)
            while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
                let count = recv(connection, &chunk, chunk.count, 0)
                if count <= 0 { return }
                request += chunk[0..<count]
            }
            received.withLock { $0 = String(decoding: request, as: UTF8.self) }
            for piece in answer {
                var sent = 0
                while sent < piece.count {
                    let count = piece.withUnsafeBytes { send(connection, $0.baseAddress! + sent, piece.count - sent, Int32(MSG_NOSIGNAL)) }
                    if count <= 0 { return }
                    sent += count
                }
                usleep(2000)
            }
        }.start()
    }

    /// The request as it came.
    func request() -> String { received.withLock { $0 } }

    /// Waits for the connection to end and closes the listener.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        done.wait()
        close(listener)
    }
}
