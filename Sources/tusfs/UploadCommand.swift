import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import MediaManagerAPI
import MediaManagerClient
import MountDaemon
import StatusClient
import TusClient

#if canImport(Glibc)
import Glibc
#endif

/// `tusfs upload FILE…`: one-shot uploads to a Media Manager service (`--endpoint`) or a plain tus server
/// (`--tus`), with a progress bar on a terminal. Prints one descriptor JSON line (or tus URL) per file.
struct UploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Upload files to a Media Manager service or a tus server.",
        discussion: """
            Files under 10 MB go to the service by one PUT to a plain upload URL, larger ones by tus in chunks \
            (resumed from the server's offset after a network error). One line per file on stdout: the file \
            descriptor as JSON (--endpoint) or the upload URL (--tus). Exit status 0 only if every file succeeded.
            """)

    @Argument(help: "Files to upload.") var files: [String] = []
    @OptionGroup var service: ServiceOptions
    @Option(name: .customLong("tus"), help: ArgumentHelp("A plain tus endpoint to upload to instead.", valueName: "url"))
    var tusEndpoint: String?
    @Option(help: ArgumentHelp("Bytes per tus PATCH request.", valueName: "bytes")) var chunkSize: Int64?
    @Option(help: ArgumentHelp("Folder path on the service (e.g. /videos/2024); created if missing.", valueName: "path"))
    var folder: String?
    @Flag(help: "Do not send Upload-Checksum with tus requests (the server then keeps partial chunks of cut requests).")
    var noChecksum = false
    @Flag(help: "Wait until the service has processed each file (READY or FAILED) before printing it.") var wait = false
    @Flag(help: "Log retries and requests on stderr.") var verbose = false

    func run() async throws {
        guard !files.isEmpty else { throw CommandFailure("no file given") }
        DaemonMemory.limitArenaGrowth()
        guard (service.endpoint == nil) != (tusEndpoint == nil) else {
            throw CommandFailure("give exactly one of --endpoint URL and --tus URL")
        }
        if let chunkSize, chunkSize <= 0 { throw CommandFailure("--chunk-size must be a positive number of bytes") }
        var sizes: [Int64] = []
        for path in files { sizes.append(try CommandFailure.regularFileSize(path)) }

        let logger = CommandLogging.logger("tusfs.upload", verbose: verbose)
        try await HTTPClient.withCommandClient(caFile: service.caFile) { http in
            try await upload(sizes: sizes, http: http, logger: logger)
        }
    }

    private func upload(sizes: [Int64], http: HTTPClient, logger: Logger) async throws {
        var tusConfiguration = TusUploader.Configuration()
        if let chunkSize { tusConfiguration.chunkSize = chunkSize }
        tusConfiguration.sendsChecksums = !noChecksum
        let tus = TusUploader(httpClient: http, configuration: tusConfiguration, logger: logger)
        let bar = ProgressBar(total: sizes.reduce(0, +), enabled: isatty(STDERR_FILENO) == 1)

        var failures = 0
        for (path, size) in zip(files, sizes) {
            bar.start(file: (path as NSString).lastPathComponent, size: size)
            do {
                let line: String
                if let tusEndpoint {
                    line = try await uploadToTus(path, endpoint: try ServiceURL.parse(tusEndpoint, flag: "--tus"), tus: tus, bar: bar)
                } else {
                    line = try await uploadToService(path, http: http, tus: tus, logger: logger, bar: bar)
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
        if failures > 0 { throw ExitCode.failure }
    }

    private func uploadToTus(_ path: String, endpoint: URL, tus: TusUploader, bar: ProgressBar) async throws -> String {
        let name = (path as NSString).lastPathComponent
        let metadata = ["filename": name, "filetype": MimeTypeDetector.shared.mimeType(ofFile: path)]
        let upload = try await tus.upload(file: path, to: endpoint, metadata: metadata, progress: { bar.update($0.acknowledged) })
        return upload.url.absoluteString
    }

    private func uploadToService(
        _ path: String, http: HTTPClient, tus: TusUploader, logger: Logger, bar: ProgressBar
    ) async throws -> String {
        let client = try service.client(http: http, tus: tus, logger: logger)
        var descriptor = try await client.upload(
            file: path, options: MediaUploadOptions(filePath: folder), progress: { bar.update($0.acknowledged) })
        if wait {
            descriptor = try await client.waitUntilProcessed(fileID: descriptor.id)
            if descriptor.operationStatus == .failed { throw CommandFailure("the service failed to process the file") }
        }
        return try CommandOutput.jsonLine(descriptor)
    }
}
