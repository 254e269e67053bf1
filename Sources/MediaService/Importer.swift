import AsyncHTTPClient
import Foundation
import Logging
import MediaManagerAPI
import NIOCore

/// `POST /files/import`: fetches a public http/https URL in the background into the file's content, then hands
/// the file to processing. The file stays PENDING meanwhile and becomes FAILED with the reason when the fetch fails.
struct Importer: Sendable {
    let database: MediaDatabase
    let contentDirectory: URL
    let maxSize: Int64
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
        guard let source = file.sourceUrl else { throw ImportError("no source URL") }
        var request = HTTPClientRequest(url: source)
        request.method = .GET
        // The timeout bounds the wait for the response head (connection attempts included), not the download.
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
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
                let mime = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? type
                if mime.contains("/"), mime.count <= 100 {
                    record.mimeType = mime
                    record.mediaType = MediaKind.mediaType(of: mime).rawValue
                }
            }
            record.updatedAt = Date().timeIntervalSince1970
            try await database.update(record)
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? ImportError { return error.message }
        return "\(error)"
    }
}

/// Why an import failed.
struct ImportError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
