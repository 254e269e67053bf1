import Hummingbird
import NIOCore

/// What a route does when it refuses a request body before the body ended (413: longer than the upload may be).
///
/// Left alone, the HTTP server would read the rest of the body after the answer and throw it away, so a client
/// could keep the connection busy for as long as it sends. Instead the connection's reading side is shut: the
/// answer is still written, then the connection closes.
public enum RequestBodyCutoff {
    /// The request's `Content-Length`, when it has a valid one.
    public static func declaredLength(_ request: Request) -> Int64? {
        guard let text = request.headers[.contentLength], !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            return nil
        }
        return Int64(text)
    }

    /// Stops reading `channel`: nothing more of the body is read; the answer goes out, then the connection closes.
    public static func stopReading(_ channel: any Channel) {
        channel.close(mode: .input, promise: nil)
    }
}
