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
        return try JSONRequestBody.decode(T.self, from: Data(buffer: buffer))
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
