import Foundation

/// The URL of a service given on the command line or in the settings (`--endpoint`, `--tus`).
public enum ServiceURL {
    /// `text` as an http(s) URL with a host, or a one-line error naming `flag`.
    public static func parse(_ text: String, flag: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil
        else { throw MountError("\(flag) must be an http(s) URL, got \(text)") }
        return url
    }
}
