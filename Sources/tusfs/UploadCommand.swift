import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import DirectUploads
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
    @Option(help: ArgumentHelp("Bytes per tus PATCH request (default: from 64 MiB growing up to 1 GiB while the link is fast).", valueName: "bytes")) var chunkSize: Int64?
    @Option(help: ArgumentHelp("Folder path on the service (e.g. /videos/2024); created if missing.", valueName: "path"))
    var folder: String?
    @Flag(help: "Do not send Upload-Checksum with tus requests (the server then keeps partial chunks of cut requests).")
    var noChecksum = false
    @Flag(help: "Wait until the service has processed each file (READY or FAILED) before printing it.") var wait = false
    @Option(help: ArgumentHelp(
        "Longest wait, in seconds, between tries of a file the service cannot take yet (unreachable, 429, 5xx); "
            + "such a file is tried for as long as it takes (default 300, or TUSFS_RETRY_MAX_DELAY).",
        valueName: "seconds"))
    var retryMaxDelay: Double?
    @Option(help: ArgumentHelp("Files under 10 MB uploaded at once at most (default 32); larger files go one at a time.", valueName: "n"))
    var maxRequests = 32
    @Flag(help: "Log retries and requests on stderr.") var verbose = false

    func run() async throws {
        guard !files.isEmpty else { throw CommandFailure("no file given") }
        DaemonMemory.limitArenaGrowth()
        guard (service.endpoint == nil) != (tusEndpoint == nil) else {
            throw CommandFailure("give exactly one of --endpoint URL and --tus URL")
        }
        if let chunkSize, chunkSize <= 0 { throw CommandFailure("--chunk-size must be a positive number of bytes") }
        guard (1...1024).contains(maxRequests) else { throw CommandFailure("--max-requests must be between 1 and 1024, got \(maxRequests)") }
        let retryMaxDelay = try self.retryMaxDelay ?? Self.environmentRetryMaxDelay() ?? 300
        guard retryMaxDelay.isFinite, retryMaxDelay >= 0.01, retryMaxDelay <= 86_400 else {
            throw CommandFailure("--retry-max-delay must be between 0.01 and 86400 seconds, got \(retryMaxDelay)")
        }
        var sizes: [Int64] = []
        for path in files { sizes.append(try CommandFailure.regularFileSize(path)) }

        var tusConfiguration = TusUploader.Configuration()
        // Without --chunk-size, PATCHes start at the default size and grow while the link is fast.
        if let chunkSize {
            tusConfiguration.chunkSize = chunkSize
            tusConfiguration.maximumChunkSize = chunkSize
        } else {
            tusConfiguration.maximumChunkSize = TusUploader.defaultMaximumChunkSize
        }
        tusConfiguration.sendsChecksums = !noChecksum
        // The clients absorb a blip; DirectUpload's own loop waits out anything longer, up to --retry-max-delay.
        // A 429 goes to DirectUpload at once: it pauses as asked and sends fewer at a time (RequestWindow).
        var retryPolicy = RequestRetryPolicy.quick
        retryPolicy.retriesThrottled = false
        tusConfiguration.retryPolicy = retryPolicy
        let destination: DirectUpload.Destination
        if let tusEndpoint {
            destination = .tus(try ServiceURL.parse(tusEndpoint, flag: "--tus"))
        } else {
            let service = self.service
            destination = .mediaManager(
                client: { http, tus, logger in try service.client(http: http, tus: tus, logger: logger, retryPolicy: retryPolicy) },
                folder: folder,
                waitUntilProcessed: wait)
        }
        let uploads = DirectUpload(
            files: Array(zip(files, sizes)), destination: destination, tusConfiguration: tusConfiguration,
            retryMaxDelay: .milliseconds(Int64(retryMaxDelay * 1000)), maxRequests: maxRequests)
        let logger = CommandLogging.logger("tusfs.upload", verbose: verbose)
        let failures = try await HTTPClient.withCommandClient(caFile: service.caFile, connectionsPerHost: maxRequests + 1) { http in
            try await uploads.run(http: http, logger: logger)
        }
        if failures > 0 { throw ExitCode.failure }
    }

    /// `TUSFS_RETRY_MAX_DELAY`, as the mount reads it.
    static func environmentRetryMaxDelay() throws -> Double? {
        guard let text = ProcessInfo.processInfo.environment[MountSettings.Variable.retryMaxDelay] else { return nil }
        guard let seconds = Double(text) else {
            throw CommandFailure("\(MountSettings.Variable.retryMaxDelay) must be a number of seconds, got \(text)")
        }
        return seconds
    }
}
