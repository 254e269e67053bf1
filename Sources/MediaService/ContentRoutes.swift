import Foundation
import HTTPTypes
import Hummingbird
import MediaManagerAPI
import TusCore

/// `GET /media/FILE_ID`: a descriptor's `url`. Serves the content with `Range` support (one range per request).
/// Private files need the `token` of a download URL; files in the trash are not served. Active content (HTML, SVG,
/// scripts…) is served as a download, never as a page of this origin (``ContentSafety``).
///
/// A whole-content answer says what the content should be, for a client to check what it received: its SHA-256
/// as the `ETag` (the descriptor's `hash`), and its CRC-32 as `x-amz-checksum-crc32` (base64 of the 4 bytes,
/// big-endian: the header and form of S3 and the object stores that follow it), far cheaper to check.
struct ContentRoutes {
    /// The header carrying the content's CRC-32.
    static let checksumHeader = HTTPField.Name("x-amz-checksum-crc32")!

    let service: MediaService
    let fileIO = FileIO()

    func add<Context: RequestContext>(to router: Router<Context>) {
        router.get("media/:fileId") { request, context in try await serve(request, context, head: false) }
        router.head("media/:fileId") { request, context in try await serve(request, context, head: true) }
    }

    private func serve<Context: RequestContext>(_ request: Request, _ context: Context, head: Bool) async throws -> Response {
        let id = context.parameters.get("fileId") ?? ""
        guard FileID.contentName(of: id) != nil, let file = try await service.database.file(id),
            file.state == FileState.ok.rawValue
        else { throw MediaServiceError.notFound("file \(id.prefix(80))") }
        if file.isPrivate {
            guard let token = JSON.query(request, "token"),
                let claims = try? service.signer.verify(token, as: DownloadClaims.self), claims.fileId == id
            else { throw MediaServiceError.badSignature }
            guard Date().timeIntervalSince1970 < claims.exp else { throw MediaServiceError.expired("the download URL") }
        }
        let path = service.contentPath(of: file).path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.int64Value
        else { throw MediaServiceError.notFound("content of file \(id)") }

        var headers: HTTPFields = [
            .contentType: file.mimeType, .acceptRanges: "bytes", .cacheControl: "private, max-age=0",
        ]
        headers.append(contentsOf: ContentSafety.headers(mimeType: file.mimeType, displayName: file.displayName))
        if let hash = file.hash { headers[.eTag] = "\"\(hash)\"" }
        let range = try request.headers[.range].flatMap { try ByteRange.parse($0, size: size) }
        if let range {
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
            headers[.contentLength] = String(range.count)
            let body = head ? ResponseBody() : try await fileIO.loadFile(path: path, range: Int(range.lowerBound)...Int(range.upperBound), context: context)
            return Response(status: .partialContent, headers: headers, body: body)
        }
        headers[.contentLength] = String(size)
        if let crc32 = file.crc32.flatMap({ Data(hex: $0) }), crc32.count == 4 { headers[Self.checksumHeader] = crc32.base64EncodedString() }
        let body = head || size == 0 ? ResponseBody() : try await fileIO.loadFile(path: path, context: context)
        return Response(status: .ok, headers: headers, body: body)
    }
}

/// One `Range: bytes=…` request header, resolved against a file size.
enum ByteRange {
    /// The inclusive byte range asked for, or nil to send the whole file (a header we do not understand, or
    /// several ranges). Throws 416 for a range wholly outside the file.
    static func parse(_ header: String, size: Int64) throws -> ClosedRange<Int64>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let startText = parts[0], endText = parts[1]
        func number(_ s: Substring) -> Int64? { s.allSatisfy(\.isNumber) && !s.isEmpty ? Int64(s) : nil }
        if startText.isEmpty {
            guard let suffix = number(endText) else { return nil }
            guard suffix > 0, size > 0 else { throw MediaServiceError.rangeNotSatisfiable(size: size) }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = number(startText) else { return nil }
        let end = endText.isEmpty ? size - 1 : (number(endText).map { min($0, size - 1) } ?? -1)
        guard end >= 0 || !endText.isEmpty else { return nil }
        guard start < size, start <= end else { throw MediaServiceError.rangeNotSatisfiable(size: size) }
        return start...end
    }
}
