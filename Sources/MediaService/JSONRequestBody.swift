import Foundation

/// How the management API reads a JSON request body: the one decoder configuration every route uses.
///
/// Kept apart from the HTTP plumbing (`JSON.decode(_:from:context:)` collects the body, then calls this) so the
/// JSON fuzz target in `Fuzz/` decodes exactly as the server does, without building the server.
enum JSONRequestBody {
    /// `data` decoded as `T`.
    /// - Throws: ``MediaServiceError/invalidArgument(_:)`` for an empty body, `DecodingError` for anything
    ///   that is not JSON of `T`'s shape.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        guard !data.isEmpty else { throw MediaServiceError.invalidArgument("a JSON request body is required") }
        return try JSONDecoder().decode(T.self, from: data)
    }
}
