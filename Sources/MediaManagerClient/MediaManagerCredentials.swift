/// What management calls are authorised with: `Authorization: <apiKey>` (raw, no `Bearer`) and, with an API
/// key, `wix-site-id: <siteID>`. Upload URLs carry no credentials: the URL itself is the credential.
///
/// The key is never printed: `description` shows only whether one is set.
public struct MediaManagerCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// API key or OAuth access token, sent as the raw `Authorization` value.
    public var apiKey: String?
    /// The site the key acts on (`wix-site-id`).
    public var siteID: String?

    public init(apiKey: String? = nil, siteID: String? = nil) {
        self.apiKey = apiKey
        self.siteID = siteID
    }

    public var description: String {
        "MediaManagerCredentials(apiKey: \(apiKey == nil ? "none" : "<redacted>"), siteID: \(siteID ?? "none"))"
    }

    public var debugDescription: String { description }
}
