import AsyncHTTPClient
import Foundation
import Logging
import MediaManagerAPI
import MediaManagerClient
import StatusClient
import TusClient
#if canImport(Glibc)
import Glibc
#endif

/// `tusfs upload FILE…`: files sent straight to a service, one after the other, without a mount: to a Media
/// Manager service (one PUT under 10 MiB, tus then finalize above) or to a plain tus server. A progress bar on
/// a terminal; one line per file on stdout (the descriptor as JSON, or the tus upload URL).
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

    public init(files: [(path: String, size: Int64)], destination: Destination, tusConfiguration: TusUploader.Configuration) {
        self.files = files
        self.destination = destination
        self.tusConfiguration = tusConfiguration
    }

    /// Uploads every file in turn; a file that fails is reported on stderr and the others go on. Returns how
    /// many failed.
    public func run(http: HTTPClient, logger: Logger) async throws -> Int {
        let tus = TusUploader(httpClient: http, configuration: tusConfiguration, logger: logger)
        let bar = ProgressBar(total: files.reduce(0) { $0 + $1.size }, enabled: isatty(STDERR_FILENO) == 1)
        var failures = 0
        for (path, size) in files {
            bar.start(file: (path as NSString).lastPathComponent, size: size)
            do {
                let line: String
                switch destination {
                case .tus(let endpoint):
                    line = try await uploadToTus(path, endpoint: endpoint, tus: tus, bar: bar)
                case .mediaManager(let makeClient, let folder, let waitUntilProcessed):
                    let client = try makeClient(http, tus, logger)
                    line = try await uploadToService(path, client: client, folder: folder, waitUntilProcessed: waitUntilProcessed, bar: bar)
                }
                bar.finish(file: size)
                bar.clear()
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            } catch let error as CancellationError {
                throw error
            } catch {
                failures += 1
                bar.clear()
                CommandFailure.report("\(path): \(error)")
            }
        }
        bar.clear()
        return failures
    }

    private func uploadToTus(_ path: String, endpoint: URL, tus: TusUploader, bar: ProgressBar) async throws -> String {
        let name = (path as NSString).lastPathComponent
        let metadata = ["filename": name, "filetype": MimeTypeDetector.shared.mimeType(ofFile: path)]
        let upload = try await tus.upload(file: path, to: endpoint, metadata: metadata, progress: { bar.update($0.acknowledged) })
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
