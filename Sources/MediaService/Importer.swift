import AsyncHTTPClient
import Foundation
import Logging
import MediaManagerAPI
import NIOCore

/// `POST /files/import`: fetches a public http/https URL in the background into the file's content, then hands
/// the file to processing. The file stays PENDING meanwhile and becomes FAILED with the reason when the fetch fails.
///
/// Every request of an import, the first and each redirect (followed here, at most ``maxRedirects``), goes only to
/// an address ``ImportTargetPolicy`` allows, checked on the address actually connected to (``ImportTarget``).
struct Importer: Sendable {
    let database: MediaDatabase
    let contentDirectory: URL
    let maxSize: Int64
    let policy: ImportTargetPolicy
    let processor: FileProcessor
    let background: BackgroundTasks
    let logger: Logger

    /// Checks that `url` is an absolute http or https URL with a host.
    static func validate(_ url: String) throws -> URL {
        guard url.count <= 4096, let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty
        else { throw MediaServiceError.invalidArgument("url must be an absolute http or https URL") }
        return parsed
    }

    /// How many redirects an import follows.
    static let maxRedirects = 5

    /// Refuses (400) an import whose host is, or resolves only to, an address the policy refuses. A host that does
    /// not resolve now is let through: the import then fails in the background with the reason.
    func checkTarget(_ url: URL) async throws {
        do { _ = try await ImportTarget.resolve(url, policy: policy) } catch is ImportError {}
    }

    /// Starts fetching `file.sourceUrl` in the background.
    func start(_ file: FileRecord) {
        background.run {
            do {
                try await fetch(file)
                processor.schedule(file.id)
            } catch {
                if Task.isCancelled { return }  // the service stopped; the import resumes at the next start
                try? FileManager.default.removeItem(at: contentDirectory.appendingPathComponent(file.contentName))
                logger.info("import of \(file.sourceUrl ?? "?") failed: \(error)")
                try? await processor.fail(file.id, reason: "import failed: \(Self.describe(error))")
            }
        }
    }

    private func fetch(_ file: FileRecord) async throws {
        guard let source = file.sourceUrl, var url = URL(string: source) else { throw ImportError("no source URL") }
        for _ in 0...Self.maxRedirects {
            let target = try await ImportTarget.resolve(url, policy: policy)
            var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
            configuration.dnsOverride = target.dnsOverride
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            let next: URL?
            do {
                next = try await fetch(file, from: url, client: client)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try? await client.shutdown()
            guard let next else { return }
            url = next
        }
        throw ImportError("more than \(Self.maxRedirects) redirects")
    }

    /// One request of an import: the redirect's target, or nil once the content is stored.
    private func fetch(_ file: FileRecord, from url: URL, client: HTTPClient) async throws -> URL? {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .GET
        // The timeout bounds the wait for the response head (connection attempts included), not the download.
        let response = try await client.execute(request, timeout: .seconds(15))
        if [301, 302, 303, 307, 308].contains(response.status.code) {
            guard let location = response.headers.first(name: "Location"), let next = URL(string: location, relativeTo: url)?.absoluteURL
            else { throw ImportError("the server answered HTTP \(response.status.code) without a valid Location") }
            guard ["http", "https"].contains(next.scheme?.lowercased() ?? "") else { throw ImportError("a redirect to a URL that is not http or https") }
            return next
        }
        guard response.status.code == 200 else { throw ImportError("the server answered HTTP \(response.status.code)") }
        if let length = response.headers.first(name: "Content-Length").flatMap({ Int64($0) }), length > maxSize {
            throw ImportError("the file is larger than the import limit of \(maxSize) bytes")
        }
        let path = contentDirectory.appendingPathComponent(file.contentName).path
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ImportError("cannot create the content file")
        }
        defer { try? handle.close() }
        var size: Int64 = 0
        for try await buffer in response.body {
            size += Int64(buffer.readableBytes)
            guard size <= maxSize else { throw ImportError("the file is larger than the import limit of \(maxSize) bytes") }
            try handle.write(contentsOf: Data(buffer: buffer))
        }
        try handle.synchronize()
        if var record = try await database.file(file.id) {
            record.sizeInBytes = size
            if record.mimeType == "application/octet-stream", let type = response.headers.first(name: "Content-Type") {
                if let mime = MimeTypeRules.normalized(type) {
                    record.mimeType = mime
                    record.mediaType = MediaKind.mediaType(of: mime).rawValue
                }
            }
            record.updatedAt = Date().timeIntervalSince1970
            try await database.update(record)
        }
        return nil
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? ImportError { return error.message }
        if let error = error as? MediaServiceError { return error.message }
        return "\(error)"
    }
}

/// Why an import failed.
struct ImportError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
