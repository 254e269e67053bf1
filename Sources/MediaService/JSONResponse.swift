import Foundation
import Hummingbird
import NIOCore

/// JSON answers and request bodies of the management API.
enum JSON {
    /// `value` as a JSON response.
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The request body decoded as `T` (at most the context's `maxUploadSize`, else 413).
    static func decode<T: Decodable, Context: RequestContext>(_ type: T.Type, from request: Request, context: Context) async throws -> T {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { throw MediaServiceError.invalidArgument("a JSON request body is required") }
        return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
    }

    /// The query items of the request's URL, percent-decoded.
    static func queryItems(_ request: Request) -> [URLQueryItem] {
        URLComponents(string: request.uri.description)?.queryItems ?? []
    }

    /// The value of query parameter `name`.
    static func query(_ request: Request, _ name: String) -> String? {
        queryItems(request).first { $0.name == name }?.value
    }
}

/// Cursors of paged listings: an opaque token holding the offset of the next page.
enum PageCursor {
    static func encode(offset: Int) -> String { Base64URL.encode(Data("o:\(offset)".utf8)) }

    static func decode(_ cursor: String?) throws -> Int {
        guard let cursor, !cursor.isEmpty else { return 0 }
        guard let data = Base64URL.decode(cursor), let text = String(data: data, encoding: .utf8), text.hasPrefix("o:"),
            let offset = Int(text.dropFirst(2)), offset >= 0
        else { throw MediaServiceError.invalidArgument("invalid paging.cursor") }
        return offset
    }

    /// The page size: `limit` (default 50) capped at 100.
    static func limit(_ limit: Int?) throws -> Int {
        guard let limit else { return 50 }
        guard limit >= 1 else { throw MediaServiceError.invalidArgument("paging.limit must be between 1 and 100") }
        return min(limit, 100)
    }
}
