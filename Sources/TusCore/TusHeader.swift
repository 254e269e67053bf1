/// Names of the HTTP headers the tus 1.0.0 protocol uses, and its fixed header values.
///
/// Header names are case-insensitive on the wire; these constants use the spelling of the specification.
public enum TusHeader {
    /// `Tus-Resumable`: the protocol version of a request or response (every message but OPTIONS).
    public static let resumable = "Tus-Resumable"
    /// `Tus-Version`: the versions a server supports, comma-separated (OPTIONS, and 412 responses).
    public static let version = "Tus-Version"
    /// `Tus-Extension`: the extensions a server supports, comma-separated (OPTIONS).
    public static let extensions = "Tus-Extension"
    /// `Tus-Max-Size`: the largest upload a server accepts, in bytes (OPTIONS).
    public static let maxSize = "Tus-Max-Size"
    /// `Tus-Checksum-Algorithm`: the checksum algorithms a server supports (OPTIONS).
    public static let checksumAlgorithm = "Tus-Checksum-Algorithm"
    /// `Upload-Offset`: how many bytes of the upload the server holds.
    public static let uploadOffset = "Upload-Offset"
    /// `Upload-Length`: the total size of the upload in bytes.
    public static let uploadLength = "Upload-Length"
    /// `Upload-Defer-Length: 1`: the size is not known yet and will be sent on a later PATCH.
    public static let uploadDeferLength = "Upload-Defer-Length"
    /// `Upload-Metadata`: `key base64value` pairs, comma-separated (see ``UploadMetadata``).
    public static let uploadMetadata = "Upload-Metadata"
    /// `Upload-Expires`: when an unfinished upload is removed, as an HTTP date.
    public static let uploadExpires = "Upload-Expires"
    /// `Upload-Checksum: <algorithm> <base64 digest>` of one PATCH body (see ``UploadChecksum``).
    public static let uploadChecksum = "Upload-Checksum"
    /// `Upload-Concat`: `partial`, or `final;<url> <url>…` (concatenation extension).
    public static let uploadConcat = "Upload-Concat"
    /// `X-HTTP-Method-Override`: replaces the request method, for clients that can only send GET and POST.
    public static let methodOverride = "X-HTTP-Method-Override"
    /// `Location`: the URL of a new upload in a 201 response to a creation POST.
    public static let location = "Location"
    /// `Content-Type` a PATCH body (and a creation-with-upload POST body) must carry.
    public static let offsetOctetStream = "application/offset+octet-stream"
}

/// The tus protocol version this project speaks.
public enum TusVersion {
    /// `1.0.0`, the value of `Tus-Resumable` on every request and response.
    public static let current = "1.0.0"
    /// Every version a server of this project accepts (the value of `Tus-Version`).
    public static let supported = [current]
}
