import AsyncHTTPClient
import Foundation
import MirrorFilesystem
import NIOCore
import Synchronization
import TusCore
import UploadEngine
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

/// The copies of the mount's files on the service, as the cache sees them: a file may be evicted when the
/// engine has it READY there, unchanged since, and the service can give its data back (a Media Manager
/// service, embedded or not, serves every READY file at its descriptor's `url`; a plain tus server is not
/// asked, so with `--tus` nothing is evicted); it is read back by a GET of that URL, checked against its
/// length and, where the service gives one, its SHA-256 (the `ETag` of `tusfs serve`).
struct ServiceCopies: RemoteCopies {
    let engine: UploadEngine
    let http: HTTPClient
    /// Whether the service gives data back at a READY file's URL.
    let servesData: Bool

    func hasCopy(of path: String, size: Int64, modified: timespec) -> Bool {
        guard servesData, let record = engine.currentStatus(of: path), record.state == .ready, record.url != nil,
            record.size == size
        else { return false }
        // Unchanged since it became READY (a file written after that is not READY for long, but the engine
        // may not have heard of the write yet).
        let modifiedAt = Date(timeIntervalSince1970: Double(modified.tv_sec) + Double(modified.tv_nsec) / 1e9)
        return modifiedAt <= record.updatedAt
    }

    /// What a download running on the cooperative pool shares with the FUSE thread waiting for it.
    private final class Download: Sendable {
        let outcome = Mutex<Result<Void, ReadBackError>?>(nil)
        let done = DispatchSemaphore(value: 0)
    }

    func fetch(_ path: String, size: Int64, into descriptor: Int32, progress: @escaping @Sendable (Int64) -> Void)
        throws(ReadBackError)
    {
        guard let record = engine.currentStatus(of: path), record.state == .ready, let url = record.url else {
            throw ReadBackError("the service holds no READY copy of this file")
        }
        let download = Download()
        let http = self.http
        Task {
            let outcome: Result<Void, ReadBackError>
            do {
                try await Self.get(url, size: size, into: descriptor, http: http, progress: progress)
                outcome = .success(())
            } catch let error as ReadBackError {
                outcome = .failure(error)
            } catch {
                outcome = .failure(ReadBackError("GET \(url): \(error)"))
            }
            download.outcome.withLock { $0 = outcome }
            download.done.signal()
        }
        download.done.wait()
        if case .failure(let error) = download.outcome.withLock({ $0 }) { throw error }
    }

    private static func get(
        _ url: String, size: Int64, into descriptor: Int32, http: HTTPClient, progress: @Sendable (Int64) -> Void
    ) async throws {
        let response = try await http.execute(HTTPClientRequest(url: url), timeout: .hours(24))
        guard response.status == .ok else {
            throw ReadBackError("GET \(url): the service answered \(response.status.code) \(response.status.reasonPhrase)")
        }
        if let length = response.headers.first(name: "content-length").flatMap(Int64.init), length != size {
            throw ReadBackError("the service's copy is \(length) bytes, the file \(size)")
        }
        let expectedHash = response.headers.first(name: "etag").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"W/")) }
            .flatMap { $0.count == 64 && $0.allSatisfy(\.isHexDigit) ? $0.lowercased() : nil }
        var hasher = expectedHash.map { _ in ChecksumAlgorithm.sha256.makeHasher() }
        var offset: Int64 = 0
        for try await buffer in response.body {
            guard offset + Int64(buffer.readableBytes) <= size else {
                throw ReadBackError("the service's copy is longer than the file's \(size) bytes")
            }
            try buffer.withUnsafeReadableBytes { bytes in
                var done = 0
                while done < bytes.count {
                    let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw ReadBackError("writing the cache file: \(String(cString: strerror(errno)))")
                    }
                    done += written
                }
                hasher?.update(bufferPointer: bytes)
            }
            offset += Int64(buffer.readableBytes)
            progress(offset)
        }
        guard offset == size else { throw ReadBackError("the service's copy came back short: \(offset) of \(size) bytes") }
        if let expectedHash, let digest = hasher?.finalize().lowercaseHex, digest != expectedHash {
            throw ReadBackError("the service's copy is not the file: SHA-256 \(digest), the service says \(expectedHash)")
        }
    }
}
