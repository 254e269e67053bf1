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

/// `tusfs upload FILE…`: files sent straight to a service, one after the other, without a mount: to a Media
/// Manager service (one PUT under 10 MiB, tus then finalize above) or to a plain tus server. A progress bar on
/// a terminal; one line per file on stdout (the descriptor as JSON, or the tus upload URL).
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

    public init(
        files: [(path: String, size: Int64)], destination: Destination, tusConfiguration: TusUploader.Configuration,
        retryMaxDelay: Duration = .seconds(300)
    ) {
        self.files = files
        self.destination = destination
        self.tusConfiguration = tusConfiguration
        self.retryMaxDelay = retryMaxDelay
    }

    /// Uploads every file in turn; a file that fails is reported on stderr and the others go on. Returns how
    /// many failed.
    public func run(http: HTTPClient, logger: Logger) async throws -> Int {
        let tus = TusUploader(httpClient: http, configuration: tusConfiguration, logger: logger)
        let bar = ProgressBar(total: files.reduce(0) { $0 + $1.size }, enabled: isatty(STDERR_FILENO) == 1)
        var failures = 0
        for (path, size) in files {
            let created = UploadURLBox()
            var failedTries = 0
            while true {
                bar.start(file: (path as NSString).lastPathComponent, size: size)
                do {
                    let line: String
                    switch destination {
                    case .tus(let endpoint):
                        line = try await uploadToTus(path, endpoint: endpoint, tus: tus, bar: bar, created: created)
                    case .mediaManager(let makeClient, let folder, let waitUntilProcessed):
                        let client = try makeClient(http, tus, logger)
                        line = try await uploadToService(path, client: client, folder: folder, waitUntilProcessed: waitUntilProcessed, bar: bar)
                    }
                    bar.finish(file: size)
                    bar.clear()
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                    break
                } catch let error as CancellationError {
                    throw error
                } catch where Self.mayPass(error) {
                    failedTries += 1
                    let wait = Backoff.delay(
                        initial: .seconds(1), multiplier: 2, cap: retryMaxDelay, failures: failedTries, jitter: 0.5,
                        random: Double.random(in: 0..<1))
                    bar.clear()
                    CommandFailure.report(
                        "\(path): the service cannot take it yet (\(error)); trying again in \(String(format: "%.1f", wait.seconds)) s")
                    try await Task.sleep(for: wait)
                } catch {
                    failures += 1
                    bar.clear()
                    CommandFailure.report("\(path): \(error)")
                    break
                }
            }
        }
        bar.clear()
        return failures
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
    private func uploadToTus(
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

    private func uploadToService(
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

/// The tus upload a try of one file created, for the next try to go on with.
private final class UploadURLBox: Sendable {
    let url = Mutex<URL?>(nil)
}
