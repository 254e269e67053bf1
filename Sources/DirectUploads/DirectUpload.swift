import AsyncHTTPClient
import Foundation
import Logging
import MediaManagerAPI
import MediaManagerClient
import StatusClient
import Synchronization
import Timekeeping
import TusClient
#if canImport(Glibc)
import Glibc
#endif

/// `tusfs upload FILE…`: files sent straight to a service without a mount: to a Media Manager service (one PUT
/// under 10 MiB, tus then finalize above) or to a plain tus server. A progress bar on a terminal; one line per
/// file on stdout (the descriptor as JSON, or the tus upload URL), in the order the files were given.
///
/// Files under 10 MiB are a request or two each, so over a slow link many of them are uploaded at once: as many
/// as a ``RequestWindow`` allows, as the mount does: it starts at 16, grows while the service answers, halves
/// and pauses for the `Retry-After` when the service throttles (429), halves on 503s and lost connections,
/// never above ``maxRequests``. Larger files move bytes for long and go one at a time (beside the small ones).
///
/// A failure that may pass (no answer from the service, 408, 429, 5xx) never fails a file: once the clients'
/// own quick retries are spent, the file is tried again after a backoff capped at `retryMaxDelay`, for as
/// long as it takes, with a line on stderr saying why; a tus upload goes on from the server's offset. Only a
/// refusal (another 4xx, an unreadable file) fails a file, and the next one goes.
public struct DirectUpload {
    /// Where the files go.
    public enum Destination {
        /// A Media Manager service: `client` is made with the HTTP client and the tus uploader given to it.
        case mediaManager(client: (HTTPClient, TusUploader, Logger) throws -> MediaManagerClient, folder: String?, waitUntilProcessed: Bool)
        /// A plain tus server's creation endpoint.
        case tus(URL)
    }

    public var files: [(path: String, size: Int64)]
    public var destination: Destination
    public var tusConfiguration: TusUploader.Configuration
    /// The longest wait between two tries of a file the service could not take yet.
    public var retryMaxDelay: Duration
    /// Files under ``smallFileSize`` uploaded at once at most (`tusfs upload --max-requests`).
    public var maxRequests: Int
    /// Files under this size are uploaded side by side (10 MiB: one PUT each to a Media Manager service).
    public static let smallFileSize: Int64 = 10 * 1024 * 1024

    public init(
        files: [(path: String, size: Int64)], destination: Destination, tusConfiguration: TusUploader.Configuration,
        retryMaxDelay: Duration = .seconds(300), maxRequests: Int = 32
    ) {
        self.files = files
        self.destination = destination
        self.tusConfiguration = tusConfiguration
        self.retryMaxDelay = retryMaxDelay
        self.maxRequests = max(1, maxRequests)
    }

    /// Uploads every file: small ones up to ``maxRequests`` at once, large ones one at a time; a file that
    /// fails is reported on stderr and the others go on. Prints each file's line in the order given. Returns
    /// how many failed.
    public func run(http: HTTPClient, logger: Logger) async throws -> Int {
        let tus = TusUploader(httpClient: http, configuration: tusConfiguration, logger: logger)
        let bar = ProgressBar(total: files.reduce(0) { $0 + $1.size }, enabled: isatty(STDERR_FILENO) == 1)
        let sender: Sender
        switch destination {
        case .tus(let endpoint): sender = .tus(endpoint, tus)
        case .mediaManager(let makeClient, let folder, let waitUntilProcessed):
            sender = .mediaManager(try makeClient(http, tus, logger), folder: folder, waitUntilProcessed: waitUntilProcessed)
        }
        let (maxRequests, retryMaxDelay) = (self.maxRequests, self.retryMaxDelay)
        let window = SharedRequestWindow(cap: maxRequests, logger: logger)
        var failures = 0
        var lines: [Int: String?] = [:]
        var nextToPrint = 0
        // Prints the lines of the files done so far, in the order given.
        func record(_ index: Int, _ line: String?) {
            lines[index] = .some(line)
            while let done = lines.removeValue(forKey: nextToPrint) {
                if let done { FileHandle.standardOutput.write(Data((done + "\n").utf8)) } else { failures += 1 }
                nextToPrint += 1
            }
        }
        try await withThrowingTaskGroup(of: (index: Int, line: String?, large: Bool).self) { group in
            var smallRunning = 0
            var largeRunning = false
            for (index, (path, size)) in files.enumerated() {
                let large = size >= Self.smallFileSize
                while true {
                    if large {
                        if !largeRunning { break }
                    } else {
                        let (allowed, pausedUntil) = window.allowed()
                        if let pausedUntil {
                            // Throttled: nothing new until the pause ends (running uploads finish meanwhile).
                            try await Task.sleep(until: pausedUntil, clock: .continuous)
                            continue
                        }
                        if smallRunning < allowed { break }
                    }
                    guard let done = try await group.next() else { break }
                    if done.large { largeRunning = false } else { smallRunning -= 1 }
                    record(done.index, done.line)
                }
                if large { largeRunning = true } else { smallRunning += 1 }
                group.addTask {
                    let line = try await Self.upload(
                        path, size: size, sender: sender, bar: bar, showsProgress: large || maxRequests == 1,
                        retryMaxDelay: retryMaxDelay, window: window)
                    return (index, line, large)
                }
            }
            for try await done in group { record(done.index, done.line) }
        }
        bar.clear()
        return failures
    }

    /// Uploads one file, trying again after failures that may pass. Returns its line, or nil when it failed
    /// (reported on stderr).
    private static func upload(
        _ path: String, size: Int64, sender: Sender, bar: ProgressBar, showsProgress: Bool, retryMaxDelay: Duration,
        window: SharedRequestWindow
    ) async throws -> String? {
        let created = UploadURLBox()
        var failedTries = 0
        // Small files uploaded side by side add to the bar when done; a large one shows its progress.
        let progressBar = showsProgress ? bar : ProgressBar(total: size, enabled: false)
        while true {
            if showsProgress { bar.start(file: (path as NSString).lastPathComponent, size: size) }
            do {
                let line: String
                switch sender {
                case .tus(let endpoint, let tus):
                    line = try await uploadToTus(path, endpoint: endpoint, tus: tus, bar: progressBar, created: created)
                case .mediaManager(let client, let folder, let waitUntilProcessed):
                    line = try await uploadToService(
                        path, client: client, folder: folder, waitUntilProcessed: waitUntilProcessed, bar: progressBar)
                }
                bar.finish(file: size)
                bar.clear()
                window.succeeded()
                return line
            } catch let error as CancellationError {
                throw error
            } catch where Self.status(of: error) == 429 {
                // Throttled: not a failed try. Wait as the service asked (the window pauses new uploads as long).
                let pausedUntil = window.throttled(retryAfter: Self.retryAfter(of: error))
                try await Task.sleep(until: pausedUntil, clock: .continuous)
            } catch where Self.mayPass(error) {
                window.congested()
                failedTries += 1
                var wait = Backoff.delay(
                    initial: .seconds(1), multiplier: 2, cap: retryMaxDelay, failures: failedTries, jitter: 0.5,
                    random: Double.random(in: 0..<1))
                if let asked = Self.retryAfter(of: error) { wait = max(wait, min(asked, retryMaxDelay)) }
                bar.clear()
                CommandFailure.report(
                    "\(path): the service cannot take it yet (\(error)); trying again in \(String(format: "%.1f", wait.seconds)) s")
                try await Task.sleep(for: wait)
            } catch {
                bar.clear()
                CommandFailure.report("\(path): \(error)")
                return nil
            }
        }
    }

    /// The HTTP status of a client's error, if it has one.
    static func status(of error: any Error) -> Int? {
        (error as? MediaManagerError)?.status ?? (error as? TusError)?.status
    }

    /// The wait a busy service asked for (`Retry-After`) with a client's error, if it asked for one.
    static func retryAfter(of error: any Error) -> Duration? {
        (error as? MediaManagerError)?.retryAfter ?? (error as? TusError)?.retryAfter
    }

    /// Whether trying the same file again later can succeed: no answer from the service, or 408, 429, 5xx.
    /// A certificate the client does not trust is not waited out: it needs the user (`--ca-file`).
    static func mayPass(_ error: any Error) -> Bool {
        switch error {
        case let error as MediaManagerError:
            if case .network(let message) = error { return !TLSFailure.isMessage(message) }
            return error.status.map { $0 == 408 || $0 == 429 || $0 >= 500 } ?? false
        case let error as TusError:
            switch error {
            case .network(let message): return !TLSFailure.isMessage(message)
            case .uploadNotFound: return true
            default: return error.status.map { $0 == 408 || $0 == 429 || $0 >= 500 } ?? false
            }
        default:
            return false
        }
    }

    /// Sends the file by tus; `created` keeps the upload made by an earlier try, which goes on from the
    /// server's offset (a new upload only when the server no longer has it).
    private static func uploadToTus(
        _ path: String, endpoint: URL, tus: TusUploader, bar: ProgressBar, created: UploadURLBox
    ) async throws -> String {
        if let url = created.url.withLock({ $0 }) {
            do {
                let status = try await tus.status(of: url)
                let upload = try await tus.resume(url, file: path, from: status.offset, endpoint: endpoint, progress: { bar.update($0.acknowledged) })
                return upload.url.absoluteString
            } catch TusError.uploadNotFound {
                created.url.withLock { $0 = nil }
            }
        }
        let name = (path as NSString).lastPathComponent
        let metadata = ["filename": name, "filetype": MimeTypeDetector.shared.mimeType(ofFile: path)]
        let upload = try await tus.upload(
            file: path, to: endpoint, metadata: metadata, progress: { bar.update($0.acknowledged) },
            onCreated: { upload in created.url.withLock { $0 = upload.url } })
        return upload.url.absoluteString
    }

    private static func uploadToService(
        _ path: String, client: MediaManagerClient, folder: String?, waitUntilProcessed: Bool, bar: ProgressBar
    ) async throws -> String {
        var descriptor = try await client.upload(
            file: path, options: MediaUploadOptions(filePath: folder), progress: { bar.update($0.acknowledged) })
        if waitUntilProcessed {
            descriptor = try await client.waitUntilProcessed(fileID: descriptor.id)
            if descriptor.operationStatus == .failed { throw CommandFailure("the service failed to process the file") }
        }
        return try CommandOutput.jsonLine(descriptor)
    }
}

/// What the files are sent with: made once per run, shared by the uploads running side by side.
private enum Sender: Sendable {
    case tus(URL, TusUploader)
    case mediaManager(MediaManagerClient, folder: String?, waitUntilProcessed: Bool)
}

/// The tus upload a try of one file created, for the next try to go on with.
private final class UploadURLBox: Sendable {
    let url = Mutex<URL?>(nil)
}
