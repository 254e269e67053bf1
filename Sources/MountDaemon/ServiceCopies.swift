import AsyncHTTPClient
import Foundation
import MirrorFilesystem
import NIOCore
import NIOHTTP1
import Synchronization
import TusCore
import UploadEngine
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

/// The copies of the mount's files on the service, as the cache sees them: a file may be evicted when the
/// engine has it READY there, unchanged since, and the service can give its data back (a Media Manager
/// service, embedded or not, serves every READY file at its descriptor's `url`; a plain tus server (`--tus`)
/// is asked once whether a GET of an upload's URL gives its data, as tusd's does; if not, nothing is
/// evicted); it is read back by a GET of that URL, checked against its length and, where the service gives
/// one, its SHA-256 (the `ETag` of `tusfs serve`). A private file, which the service refuses at its plain URL
/// (401 or 403), is read from a download URL generated for it.
struct ServiceCopies: RemoteCopies {
    /// Generates a signed download URL for the file with this id (Media Manager's Generate File Download URL).
    typealias DownloadURL = @Sendable (String) async throws -> String

    /// Whether the service gives data back at a READY file's URL.
    enum DataBack: Sendable {
        case always
        /// A plain tus server: whether it does is asked of the server, once it answers.
        case ifTheServerAnswers(TusDataProbe)
    }

    let engine: UploadEngine
    let http: HTTPClient
    let dataBack: DataBack
    /// Where a private file's signed URL comes from; nil when the service has no such thing.
    let downloadURL: DownloadURL?

    func hasCopy(of path: String, size: Int64, modified: timespec) -> Bool {
        guard let record = engine.currentStatus(of: path), record.state == .ready, let url = record.url,
            record.size == size
        else { return false }
        if case .ifTheServerAnswers(let probe) = dataBack, !probe.servesData(askingAt: url, size: size, http: http) {
            return false
        }
        // Unchanged since it became READY (a file written after that is not READY for long, but the engine
        // may not have heard of the write yet).
        let modifiedAt = Date(timeIntervalSince1970: Double(modified.tv_sec) + Double(modified.tv_nsec) / 1e9)
        return modifiedAt <= record.updatedAt
    }

    func fetch(
        _ path: String, size: Int64, into descriptor: Int32, beforeWriting prepare: () throws(ReadBackError) -> Void,
        progress: @escaping @Sendable (Int64) -> Void
    ) throws(ReadBackError) {
        guard let record = engine.currentStatus(of: path), record.state == .ready, let url = record.url else {
            throw ReadBackError("the service holds no READY copy of this file")
        }
        var prepared = false
        do {
            try get(url, size: size, into: descriptor, prepare: prepare, prepared: &prepared, progress: progress)
        } catch where [401, 403].contains(error.status) {
            // A private file: its plain URL is refused, a generated download URL is not.
            let refusal = error
            guard let downloadURL, let fileID = record.remoteId else { throw refusal.error }
            let signed = try Self.waitFor { () async throws(ReadBackError) -> String in
                do {
                    return try await downloadURL(fileID)
                } catch let error as ReadBackError {
                    throw error
                } catch {
                    throw ReadBackError("\(refusal.error); generating a download URL: \(error)")
                }
            }
            do {
                try get(signed, size: size, into: descriptor, prepare: prepare, prepared: &prepared, progress: progress,
                    shownURL: url + " (a download URL)")
            } catch {
                throw error.error
            }
        } catch {
            throw error.error
        }
    }

    /// GETs `url` into `descriptor`: a plain `http://` URL on this thread (`PlainHTTPGet`), anything else (https,
    /// a redirect…) through the HTTP client, on its event loop (no hop to another thread between the socket and
    /// the cache file, so a reader waiting for the file's start gets it as soon as it lands). While the request is
    /// on its way, `prepare` runs here (unless `prepared`): the body waits for it before being written.
    /// `shownURL` is what errors name (a signed URL's token is not shown).
    private func get(
        _ url: String, size: Int64, into descriptor: Int32, prepare: () throws(ReadBackError) -> Void, prepared: inout Bool,
        progress: @escaping @Sendable (Int64) -> Void, shownURL: String? = nil
    ) throws(ReadBackRefusal) {
        let shown = shownURL ?? url
        if let plain = URL(string: url), PlainHTTPGet.handles(plain) {
            let body = ReadBackBody(size: size, descriptor: descriptor, url: shown, progress: progress)
            switch try PlainHTTPGet.read(plain, shown: shown, into: body, prepare: prepare, prepared: &prepared) {
            case .read: return
            case .leftToTheHTTPClient: break
            }
        }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url)
        } catch {
            throw ReadBackRefusal(status: 0, error: ReadBackError("GET \(shown): \(error)"))
        }
        let writer = ReadBackWriter(ReadBackBody(size: size, descriptor: descriptor, url: shown, progress: progress))
        // The body's parts are written on the event loop of the connection that reads them (with the delegate on
        // another loop, every part would hop threads: an eventfd wake-up each).
        let task = http.execute(
            request: request, delegate: writer, eventLoop: .delegateAndChannel(on: http.eventLoopGroup.next()),
            deadline: .now() + .hours(24))
        if !prepared {
            do {
                try prepare()
                prepared = true
            } catch {
                writer.abandon(error)
                task.cancel()
                _ = try? task.wait()
                throw ReadBackRefusal(status: 0, error: error)
            }
        }
        writer.startWriting()
        do {
            try task.wait()
            try writer.body.verify()
        } catch let refusal as ReadBackRefusal {
            throw refusal
        } catch let error as ReadBackError {
            throw ReadBackRefusal(status: 0, error: error)
        } catch {
            throw ReadBackRefusal(status: 0, error: ReadBackError("GET \(shown): \(error)"))
        }
    }

    /// Runs `body` on the cooperative pool and waits for it (called on the cache's own threads, never there).
    private static func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws(ReadBackError) -> T) throws(ReadBackError) -> T {
        let outcome = Mutex<Result<T, ReadBackError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<T, ReadBackError>
            do throws(ReadBackError) { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
}

/// Whether a plain tus server gives an upload's data back at its URL: a GET of the first byte of a finished
/// upload, asked when the cache first wants to evict a file and remembered once the server answered (a server
/// that cannot be reached is asked again next time; until then nothing is evicted).
final class TusDataProbe: Sendable {
    private let answer = Mutex<Bool?>(nil)

    func servesData(askingAt url: String, size: Int64, http: HTTPClient) -> Bool {
        if let known = answer.withLock({ $0 }) { return known }
        guard var request = try? HTTPClient.Request(url: url) else { return false }
        request.headers.add(name: "Range", value: "bytes=0-0")
        // Only the answer's head is read: a server that ignores the range would send the whole upload.
        let head = HeadOnly()
        _ = try? http.execute(request: request, delegate: head, deadline: .now() + .seconds(10)).wait()
        guard let status = head.status.withLock({ $0 }) else { return false }  // no answer: ask again later
        if status.code >= 500 || status == .requestTimeout || status == .tooManyRequests { return false }
        // 200 or 206: it gives data back; 404, 405 (no GET), 409, 501…: it does not.
        let serves = status == .ok || status == .partialContent
        answer.withLock { $0 = serves }
        return serves
    }

    /// Keeps a response's status and stops at its head.
    private final class HeadOnly: HTTPClientResponseDelegate, Sendable {
        typealias Response = Void
        struct Stop: Error {}
        let status = Mutex<HTTPResponseStatus?>(nil)

        func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            status.withLock { $0 = head.status }
            return task.eventLoop.makeFailedFuture(Stop())
        }

        func didFinishRequest(task: HTTPClient.Task<Void>) throws {}
    }
}

/// The service refused a GET: `status` (0: no answer), and the error to show.
struct ReadBackRefusal: Error {
    var status: UInt
    var error: ReadBackError
}

/// Hands a GET's body to a `ReadBackBody` as it arrives, on the event loop that reads it. The body waits
/// (back-pressure) until `startWriting()`: the cache makes room and notes the read-back meanwhile.
final class ReadBackWriter: HTTPClientResponseDelegate, Sendable {
    typealias Response = Void

    let body: ReadBackBody

    private struct State {
        /// Whether writing may start, and the body part that waits for it.
        var writing = false
        var waiting: (buffer: ByteBuffer, promise: EventLoopPromise<Void>)?
    }
    private let state = Mutex(State())

    init(_ body: ReadBackBody) { self.body = body }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        guard head.status == .ok else {
            return task.eventLoop.makeFailedFuture(ReadBackRefusal(
                status: head.status.code,
                error: ReadBackError("GET \(body.url): the service answered \(head.status.code) \(head.status.reasonPhrase)")))
        }
        do {
            try body.begin { head.headers.first(name: $0) }
        } catch {
            return task.eventLoop.makeFailedFuture(error)
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let promise = state.withLock { state -> EventLoopPromise<Void>? in
            guard !state.writing else { return nil }
            let promise = task.eventLoop.makePromise(of: Void.self)
            state.waiting = (buffer, promise)
            return promise
        }
        if let promise { return promise.futureResult }
        do {
            return try body.write(buffer, on: task.eventLoop) ?? task.eventLoop.makeSucceededVoidFuture()
        } catch {
            return task.eventLoop.makeFailedFuture(error)
        }
    }

    /// Room is made and the read-back noted: the body may go to the file (the part that waited first).
    func startWriting() {
        let waited = state.withLock { state in
            state.writing = true
            defer { state.waiting = nil }
            return state.waiting
        }
        guard let waited else { return }
        do {
            if let hashed = try body.write(waited.buffer, on: waited.promise.futureResult.eventLoop) {
                hashed.cascade(to: waited.promise)
            } else {
                waited.promise.succeed()
            }
        } catch {
            waited.promise.fail(error)
        }
    }

    /// The read-back ends before writing started: the body part that waits for it is dropped.
    func abandon(_ error: ReadBackError) {
        let waited = state.withLock { state in
            defer { state.waiting = nil }
            return state.waiting
        }
        waited?.promise.fail(error)
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        try body.end()
    }
}
