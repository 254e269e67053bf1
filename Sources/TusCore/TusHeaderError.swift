/// A tus header whose value breaks the protocol's rules, with a message that says which and why.
///
/// Servers answer it with 400 Bad Request; clients treat it as a protocol violation by the server.
public struct TusHeaderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The header's name, e.g. `Upload-Offset`.
    public let header: String
    /// What is wrong, in words for the person reading the log or the error body.
    public let message: String

    public init(header: String, message: String) {
        self.header = header
        self.message = message
    }

    public var description: String { "\(header): \(message)" }
}
