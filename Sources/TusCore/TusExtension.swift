import Foundation

/// The tus 1.0.0 protocol extensions, by the names used in the `Tus-Extension` header.
public enum TusExtension: String, CaseIterable, Sendable, Hashable {
    /// `POST` to the endpoint creates an upload.
    case creation
    /// The creation `POST` may already carry the first bytes.
    case creationWithUpload = "creation-with-upload"
    /// The creation `POST` may leave the length for a later `PATCH` (`Upload-Defer-Length: 1`).
    case creationDeferLength = "creation-defer-length"
    /// Unfinished uploads expire; the server announces when with `Upload-Expires`.
    case expiration
    /// Each `PATCH` may carry `Upload-Checksum`; a mismatch discards that chunk (status 460).
    case checksum
    /// `DELETE` on an upload removes it.
    case termination
    /// Partial uploads joined into a final one with `Upload-Concat`.
    case concatenation

    /// The value of a `Tus-Extension` header listing `extensions`, in the given order.
    public static func headerValue(_ extensions: [TusExtension]) -> String {
        extensions.map(\.rawValue).joined(separator: ",")
    }

    /// The extensions named in a `Tus-Extension` header; names this project does not know are skipped.
    public static func parseList(_ header: String) -> Set<TusExtension> {
        Set(header.split(separator: ",").compactMap { TusExtension(rawValue: $0.trimmingCharacters(in: .whitespaces)) })
    }
}
