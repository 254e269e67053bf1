import Foundation
import TusServer

/// Which addresses `POST /files/import` may fetch from. By default only public ones (``IPAddress/isPublic``), so
/// an import cannot reach the service itself (`/metrics`), other services on its host or its network, or cloud
/// metadata endpoints, and make what they answer a public file (server-side request forgery).
struct ImportTargetPolicy: Sendable {
    /// `--import-allow-private`: any address (labs).
    var allowPrivate = false
    /// Addresses allowed although not public (tests).
    var exceptions: Set<String> = []

    func allows(_ address: IPAddress) -> Bool {
        allowPrivate || address.isPublic || exceptions.contains(address.description)
    }
}

/// Where one request of an import goes: the URL's host and the checked address the connection must go to.
///
/// The host is resolved once, here, and the address checked; the HTTP client is then told to connect to that
/// address for that host (`dnsOverride`, which keeps `Host` and TLS verification on the name), so a name that
/// resolves differently a moment later (DNS rebinding) cannot slip past the check.
struct ImportTarget: Sendable {
    /// The URL's host as the HTTP client sees it (without IPv6 brackets).
    let host: String
    /// The address to connect to.
    let address: IPAddress
    /// False when the host is an address already (nothing to resolve).
    let isName: Bool

    /// The HTTP client's `dnsOverride` that pins the connection to ``address``.
    var dnsOverride: [String: String] { isName ? [host: address.description] : [:] }

    /// Resolves and checks `url`'s host.
    /// - Throws: ``MediaServiceError/invalidArgument(_:)`` when the host is, or resolves only to, addresses the
    ///   policy refuses; ``ImportError`` when it does not resolve.
    static func resolve(_ url: URL, policy: ImportTargetPolicy) async throws -> ImportTarget {
        guard var host = url.host, !host.isEmpty else { throw MediaServiceError.invalidArgument("url has no host") }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if let literal = IPAddress(host) {
            guard policy.allows(literal) else { throw refusal(host: host, address: literal) }
            return ImportTarget(host: host, address: literal, isName: false)
        }
        let name = host
        let addresses = try await runBlocking { try IPAddress.resolve(name) }
        guard let allowed = addresses.first(where: policy.allows) else { throw refusal(host: host, address: addresses[0]) }
        return ImportTarget(host: host, address: allowed, isName: true)
    }

    private static func refusal(host: String, address: IPAddress) -> MediaServiceError {
        let shown = host == address.description ? host : "\(host) (\(address))"
        return .invalidArgument(
            "url: \(shown) is not a public address; imports from loopback, private, link-local and other non-public addresses are refused (tusfs serve --import-allow-private allows them)")
    }
}
