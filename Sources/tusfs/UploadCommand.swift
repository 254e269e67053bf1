import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import MediaManagerAPI
import MediaManagerClient
import NIOCore
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
                    line = try await uploadToTus(path, endpoint: try ServiceOptions.url(tusEndpoint, flag: "--tus"), tus: tus, bar: bar)
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

/// A one-line error for the user: printed as `tusfs: MESSAGE` on stderr, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    static func report(_ message: String) {
        FileHandle.standardError.write(Data("tusfs: \(message)\n".utf8))
    }

    /// The size of a regular file, or a one-line error saying why it cannot be uploaded.
    static func regularFileSize(_ path: String) throws -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CommandFailure("\(path): \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw CommandFailure("\(path): not a regular file") }
        guard access(path, R_OK) == 0 else { throw CommandFailure("\(path): \(String(cString: strerror(errno)))") }
        return Int64(info.st_size)
    }
}

extension CommandFailure: LocalizedError {
    var errorDescription: String? { description }
}

/// Output helpers for the upload commands.
enum CommandOutput {
    /// One compact JSON line with sorted keys.
    static func jsonLine<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Loggers for the commands: always on stderr (stdout carries results), warnings only unless verbose.
enum CommandLogging {
    static func logger(_ label: String, verbose: Bool) -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }
}

/// A one-line progress bar on stderr, redrawn at most 10 times a second; silent when stderr is not a terminal.
final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int64
    private let enabled: Bool
    private let started = Date()
    private var finishedBytes: Int64 = 0
    private var current: Int64 = 0
    private var fileName = ""
    private var lastDraw = Date.distantPast

    init(total: Int64, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    func start(file name: String, size: Int64) {
        lock.withLock {
            fileName = name
            current = 0
        }
        update(0)
    }

    /// Bytes of the current file acknowledged by the server.
    func update(_ acknowledged: Int64) {
        guard enabled else { return }
        lock.withLock {
            current = acknowledged
            let now = Date()
            guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = now
            draw(now: now)
        }
    }

    func finish(file size: Int64) {
        lock.withLock {
            finishedBytes += size
            current = 0
        }
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    private func draw(now: Date) {
        let done = finishedBytes + current
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let elapsed = max(0.001, now.timeIntervalSince(started))
        let rate = Double(done) / elapsed
        let line = String(
            format: "\r\u{1B}[2K%@ %@/%@ %@/s %@", ProgressText.bar(fraction, width: 30), ProgressText.bytes(Double(done)),
            ProgressText.bytes(Double(total)), ProgressText.bytes(rate), String(fileName.prefix(40)))
        FileHandle.standardError.write(Data(line.utf8))
    }
}
