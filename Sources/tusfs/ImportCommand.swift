import ArgumentParser
import AsyncHTTPClient
import Foundation
import MediaManagerAPI
import MediaManagerClient
import MountDaemon
import StatusClient
import TusClient

/// `tusfs import URL`: asks the service to fetch a file from a public URL (Import File) and waits until it is
/// READY (exit 0, descriptor JSON on stdout) or FAILED (exit 1).
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Ask the service to import a file from a public URL and wait until it is ready.")

    @Argument(help: "The http(s) URL of the file to import.") var url: String
    @Option(help: ArgumentHelp("Display name of the file on the service.", valueName: "name")) var name: String?
    @Option(help: ArgumentHelp("Folder path on the service (e.g. /imports); created if missing.", valueName: "path"))
    var folder: String?
    @Option(help: ArgumentHelp("Seconds to wait for READY or FAILED.", valueName: "seconds")) var timeout: Int = 600
    @OptionGroup var service: ServiceOptions
    @Flag(help: "Log requests and retries on stderr.") var verbose = false

    func run() async throws {
        _ = try ServiceURL.parse(url, flag: "URL")
        guard timeout > 0 else { throw CommandFailure("--timeout must be positive") }
        let logger = CommandLogging.logger("tusfs.import", verbose: verbose)
        let descriptor = try await HTTPClient.withCommandClient(caFile: service.caFile) { http in
            let client = try service.client(http: http, tus: TusUploader(httpClient: http, logger: logger), logger: logger)
            let pending = try await client.importFile(ImportFileRequest(url: url, displayName: name, filePath: folder))
            return try await client.waitUntilProcessed(fileID: pending.id, timeout: .seconds(timeout))
        }
        print(try CommandOutput.jsonLine(descriptor))
        if descriptor.operationStatus == .failed {
            throw CommandFailure("the service could not import \(url) (file \(descriptor.id) FAILED)")
        }
    }
}
