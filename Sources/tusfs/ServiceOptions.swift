import AsyncHTTPClient
import ArgumentParser
import Foundation
import Logging
import MediaManagerClient
import MountDaemon
import StatusClient
import TusClient

/// How to reach a Media Manager service: shared by `upload` and `import`.
struct ServiceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Media Manager API base, e.g. https://www.wixapis.com/site-media/v1.", valueName: "url"))
    var endpoint: String?
    @Option(help: ArgumentHelp("API key (also from TUSFS_API_KEY). Prefer --api-key-file: arguments are visible to other users.", valueName: "key"))
    var apiKey: String?
    @Option(help: ArgumentHelp("File holding the API key.", valueName: "file")) var apiKeyFile: String?
    @Option(help: ArgumentHelp("Site id sent as wix-site-id.", valueName: "id")) var siteId: String?
    @Option(help: ArgumentHelp("PEM certificates to trust for https besides the system's (a private CA).", valueName: "file"))
    var caFile: String?

    /// The key from --api-key, --api-key-file or TUSFS_API_KEY, in that order. A key file readable by group
    /// or others is refused.
    func credentials() throws -> MediaManagerCredentials {
        warnIfTheKeyIsAnArgument()
        var key = apiKey
        if key == nil, let apiKeyFile { key = try APIKeyFile.read(apiKeyFile, source: "--api-key-file") }
        if key == nil { key = ProcessInfo.processInfo.environment["TUSFS_API_KEY"].flatMap { $0.isEmpty ? nil : $0 } }
        return MediaManagerCredentials(apiKey: key, siteID: siteId)
    }

    /// One line on stderr when the key was given with --api-key: every user of the machine sees it in `ps`.
    func warnIfTheKeyIsAnArgument() {
        guard apiKey != nil else { return }
        FileHandle.standardError.write(Data(
            "tusfs: warning: --api-key shows the secret to every user of this machine (ps); use --api-key-file or TUSFS_API_KEY\n".utf8))
    }

    func client(
        http: HTTPClient, tus: TusUploader, logger: Logger, retryPolicy: RequestRetryPolicy = .default
    ) throws -> MediaManagerClient {
        guard let endpoint else { throw CommandFailure("--endpoint URL is required") }
        return MediaManagerClient(
            endpoint: try ServiceURL.parse(endpoint, flag: "--endpoint"), credentials: try credentials(), httpClient: http, tus: tus,
            retryPolicy: retryPolicy, logger: logger)
    }
}

