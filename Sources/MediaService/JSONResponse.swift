import Foundation
import Hummingbird
import NIOCore

/// JSON answers and request bodies of the management API.
enum JSON {
    /// `value` as a JSON response.
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `value` as a JSON response, written by hand (see ``HandWrittenJSON``): the same bytes as the generic
    /// `response(_:status:)`.
    static func response<T: HandWrittenJSON>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: try body(value)))
    }

    /// The JSON of `value`, written by hand when it can be.
    static func body<T: HandWrittenJSON>(_ value: T) throws -> ByteBuffer {
        guard value.canWriteJSON else { return ByteBuffer(bytes: try encoder.encode(value)) }
        var buffer = ByteBufferAllocator().buffer(capacity: 1024)
        value.writeJSON(to: &buffer)
        return buffer
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
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
