import Foundation

/// Upload URLs as they are kept in the journal: relative to the service's origin when they point at it.
///
/// The embedded service listens on a new loopback port after each remount, while the URLs it signed stay
/// valid (the signing key lives in its data directory). So a URL on the client's own origin (scheme, host and
/// port of its API base) is stored as an origin-relative string such as `/upload/tus/TICKET/ID`, and resolved
/// against the origin of the day when it is used. URLs on any other origin (a CDN, the real service's upload
/// hosts) are stored unchanged.
struct RelocatableURL: Sendable {
    /// `scheme://host[:port]` of the service, without a trailing slash.
    let origin: String

    /// The origin of `baseURL` (its path is dropped).
    init(origin baseURL: URL) {
        var components = URLComponents()
        components.scheme = baseURL.scheme
        components.host = baseURL.host
        components.port = baseURL.port
        origin = components.string ?? ""
    }

    /// The string to store for `url`: origin-relative when `url` is on this origin, else absolute.
    func stored(_ url: URL) -> String {
        stored(url.absoluteString)
    }

    /// The string to store for the absolute URL `text`.
    func stored(_ text: String) -> String {
        guard !origin.isEmpty, text.hasPrefix(origin) else { return text }
        let rest = text.dropFirst(origin.count)
        // Only a real origin boundary counts: `http://h:80` must not match `http://h:8080/…`.
        guard rest.isEmpty || rest.hasPrefix("/") || rest.hasPrefix("?") || rest.hasPrefix("#") else { return text }
        return rest.hasPrefix("/") ? String(rest) : "/" + rest
    }

    /// The absolute URL for a stored string: origin-relative strings are resolved against the current origin.
    func resolved(_ stored: String) -> URL? {
        if stored.hasPrefix("/") && !stored.hasPrefix("//") { return URL(string: origin + stored) }
        return URL(string: stored)
    }
}
