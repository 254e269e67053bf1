import AsyncHTTPClient
import ArgumentParser
import Foundation
import Logging
import MediaManagerClient
import TusClient
#if canImport(Glibc)
import Glibc
#endif

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
        var key = apiKey
        if key == nil, let apiKeyFile { key = try Self.readKeyFile(apiKeyFile, source: "--api-key-file") }
        if key == nil { key = ProcessInfo.processInfo.environment["TUSFS_API_KEY"].flatMap { $0.isEmpty ? nil : $0 } }
        return MediaManagerCredentials(apiKey: key, siteID: siteId)
    }

    /// The key in `path` (first line, trimmed). Refused when the file is readable by group or others, or
    /// empty; `source` names where the path came from in the message (`--api-key-file`, `TUSFS_API_KEY_FILE`).
    static func readKeyFile(_ path: String, source: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CommandFailure("cannot read \(source) \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw CommandFailure(
                "\(source) \(path) is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandFailure("cannot read \(source) \(path)")
        }
        guard let key = text.split(separator: "\n").first?.trimmingCharacters(in: .whitespaces), !key.isEmpty else {
            throw CommandFailure("\(source) \(path) is empty")
        }
        return key
    }

    func client(http: HTTPClient, tus: TusUploader, logger: Logger) throws -> MediaManagerClient {
        guard let endpoint else { throw CommandFailure("--endpoint URL is required") }
        return MediaManagerClient(
            endpoint: try Self.url(endpoint, flag: "--endpoint"), credentials: try credentials(), httpClient: http, tus: tus,
            logger: logger)
    }

    static func url(_ text: String, flag: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil
        else { throw CommandFailure("\(flag) must be an http(s) URL, got \(text)") }
        return url
    }
}

