/// Recognises a TLS handshake that failed because the server's certificate is not trusted (or the TLS
/// setup is wrong): trying the same request again cannot help, so clients give up at once with a message
/// that says what to do, instead of retrying for minutes.
public enum TLSFailure {
    /// True when `error` (from AsyncHTTPClient / NIOSSL) is a failed TLS handshake.
    public static func isHandshakeFailure(_ error: any Error) -> Bool {
        let text = String(describing: error)
        return text.contains("handshakeFailed") || text.contains("CERTIFICATE_VERIFY_FAILED")
            || text.contains("unableToValidateCertificate")
    }

    /// The one-line explanation shown to the user.
    public static func message(_ error: any Error) -> String {
        prefix + " (is the server's certificate trusted? a private CA needs --ca-file): \(error)"
    }

    /// Whether `text` is a ``message(_:)``: the network error a client reports for a failed handshake.
    public static func isMessage(_ text: String) -> Bool { text.hasPrefix(prefix) }

    private static let prefix = "TLS handshake failed"
}
