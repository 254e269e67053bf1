import AsyncHTTPClient
import Foundation
import MediaManagerAPI
import MediaManagerClient
import MediaService
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing
import TusClient
import TusServer
import UploadEngine
@testable import UploadTargets
import UploadStatus

/// An in-process media service for one test, with a cache directory for the files to upload. The service
/// can be restarted on the same data directory (it comes back on another port, as after a remount).
final class TargetTestService: Sendable {
    let data: TemporaryDirectory
    let cache: TemporaryDirectory
    let apiKey: String?
    let processingDelay: Duration
    let processingFailureRate: Double
    /// Where the service listens (0: a free port) and the origin of the URLs it hands out (nil: its own).
    let port: Int
    let publicURL: URL?
    private let running: Mutex<RunningMediaService?>

    private init(
        data: TemporaryDirectory, cache: TemporaryDirectory, apiKey: String?, processingDelay: Duration,
        processingFailureRate: Double, port: Int, publicURL: URL?
    ) {
        self.port = port
        self.publicURL = publicURL
        self.data = data
        self.cache = cache
        self.apiKey = apiKey
        self.processingDelay = processingDelay
        self.processingFailureRate = processingFailureRate
        self.running = Mutex(nil)
    }

    /// The service as it runs now.
    var service: RunningMediaService {
        get throws {
            guard let service = running.withLock({ $0 }) else { throw TestFailure("the media service is not running") }
            return service
        }
    }

    /// Starts (or restarts) the service on a free port.
    func start() async throws {
        let server = try MediaServer(
            configuration: MediaServiceConfiguration(
                port: port, dataDirectory: URL(fileURLWithPath: data.path), apiKey: apiKey, processingDelay: processingDelay,
                processingFailureRate: processingFailureRate, publicURL: publicURL))
        let service = try await server.start()
        running.withLock { $0 = service }
    }

    /// Stops the service (if it runs).
    func stop() async {
        if let service = running.withLock({ current in defer { current = nil }; return current }) {
            await service.stop()
        }
    }

    /// A Media Manager client of the running service, with small tus chunks and quick retries.
    func client(apiKey: String? = nil, chunkSize: Int64 = 1 << 20, httpClient: HTTPClient = .shared) throws -> MediaManagerClient {
        let tus = TusUploader(httpClient: httpClient, configuration: .init(chunkSize: chunkSize, retryPolicy: quickRetries))
        return MediaManagerClient(
            endpoint: try service.baseURL, credentials: .init(apiKey: apiKey ?? self.apiKey), httpClient: httpClient, tus: tus,
            retryPolicy: quickRetries)
    }

    /// A target on a fresh client of the running service.
    func target(rootFolder: String = "", chunkSize: Int64 = 1 << 20) throws -> MediaManagerTarget {
        MediaManagerTarget(client: try client(chunkSize: chunkSize), rootFolder: rootFolder)
    }

    /// Writes `size` random bytes to `CACHE/path` and returns them.
    @discardableResult
    func makeFile(_ path: String, size: Int) throws -> Data {
        try makeFile(path, bytes: randomBytes(size))
    }

    /// A file of `size` bytes of plain text lines: what libmagic types as text/plain every time (random bytes
    /// now and then look like the start of an MPEG audio frame).
    func makeTextFile(_ path: String, size: Int) throws -> Data {
        var text = ""
        var line = 0
        while text.utf8.count < size {
            text += "line \(line) of a plain text note\n"
            line += 1
        }
        return try makeFile(path, bytes: Data(text.utf8.prefix(size)))
    }

    private func makeFile(_ path: String, bytes: Data) throws -> Data {
        let full = cache.appending(path)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try bytes.write(to: URL(fileURLWithPath: full))
        return bytes
    }

    /// Runs `body` with a started service; the service is stopped and both directories removed afterwards,
    /// also when `body` throws. `port` and `publicURL` put the service behind a proxy.
    static func with(
        apiKey: String? = nil, processingDelay: Duration = .milliseconds(50), processingFailureRate: Double = 0,
        port: Int = 0, publicURL: URL? = nil, _ body: (TargetTestService) async throws -> Void
    ) async throws {
        let data = try TemporaryDirectory("targets-data")
        let cache = try TemporaryDirectory("targets-cache")
        let test = TargetTestService(
            data: data, cache: cache, apiKey: apiKey, processingDelay: processingDelay,
            processingFailureRate: processingFailureRate, port: port, publicURL: publicURL)
        do {
            try await test.start()
            try await body(test)
        } catch {
            await test.stop()
            data.remove()
            cache.remove()
            throw error
        }
        await test.stop()
        data.remove()
        cache.remove()
    }
}

extension MediaManagerTarget {
    /// Uploads `path` from the test's cache, recording into `recorder`.
    func upload(
        _ path: String, in test: TargetTestService, resume: ResumeData? = nil, recorder: UploadRecorder = UploadRecorder()
    ) async throws(UploadTargetError) -> UploadOutcome {
        let size = (try? FileManager.default.attributesOfItem(atPath: test.cache.appending(path))[.size] as? NSNumber)?.int64Value ?? 0
        return try await upload(
            file: test.cache.appending(path), remotePath: path, size: size, resume: resume,
            onResumeData: recorder.onResumeData, progress: recorder.progressHandler)
    }
}

/// The bytes at `url` (a file URL of the service).
func download(_ url: String) async throws -> Data {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
    guard response.status == .ok else { throw TestFailure("GET \(url): HTTP \(response.status.code)") }
    return Data(try await response.body.collect(upTo: 256 << 20).readableBytesView)
}

/// Polls the target until the file is no longer PENDING.
func waitUntilProcessed(_ target: some UploadTarget, _ remoteId: String, timeout: Duration = .seconds(20)) async throws -> ProcessingStatus {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        let status = try await target.processingStatus(remoteId: remoteId)
        if status != .pending { return status }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("\(remoteId) still PENDING after \(timeout)")
}

/// The id of the folder at `path` (names from the media root down), or nil.
func folderID(_ client: MediaManagerClient, _ path: [String]) async throws -> String? {
    var parent = SpecialFolder.mediaRoot
    for name in path {
        let matches = try await client.listFolders(parentFolderId: parent, paging: CursorPaging(limit: 100)).folders
            .filter { $0.displayName == name && $0.state != .deleted }
        guard matches.count <= 1 else { throw TestFailure("\(matches.count) folders named \(name)") }
        guard let folder = matches.first else { return nil }
        parent = folder.id
    }
    return parent
}
