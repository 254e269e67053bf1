import Foundation
import TOMLKit

/// `tusfs.toml`: settings an operator keeps in a file instead of on the command line. Flags win over
/// environment variables (`TUSFS_…`), which win over the file, which wins over the built-in defaults.
///
/// Looked for, when `--config` does not name one, at `$XDG_CONFIG_HOME/tusfs/tusfs.toml` (or
/// `~/.config/tusfs/tusfs.toml`), then `/etc/tusfs/tusfs.toml`; the first that exists is used. Keys are
/// those of the `[mount]` table below (docs/CONFIGURATION.md lists them); an unknown key is an error, so a
/// typo never goes unnoticed. The API key itself is never in this file: `api_key_file` names a file that
/// holds it (mode 0600).
public struct ConfigurationFile: Sendable {
    /// The `[mount]` table: the settings of `tusfs mount`.
    public struct Mount: Decodable, Sendable {
        public var endpoint: String?
        public var api_key_file: String?
        public var site_id: String?
        public var tus: String?
        public var remote_folder: String?
        public var transfers: Int?
        public var max_requests: Int?
        public var write_back: Number?
        public var retry_max_delay: Number?
        public var cache: String?
        public var threads: Int?
        public var passthrough: Bool?
        public var log_level: String?
        public var log_format: String?
        public var metrics_listen: String?
        public var webhook_listen: String?
        public var webhook_secret_file: String?
        public var ca_file: String?
        public var options: [String]?
        /// A size (`"64G"`) or a number of bytes.
        public var cache_max_size: SizeText?
        public var max_chunk_size: SizeText?
        public var cache_min_free: SizeText?
        public var cache_full_wait: Number?

        public static let keys: Set<String> = [
            "endpoint", "api_key_file", "site_id", "tus", "remote_folder", "transfers", "max_requests", "write_back", "retry_max_delay", "cache",
            "threads", "passthrough", "log_level", "log_format", "metrics_listen", "ca_file", "options", "cache_max_size", "max_chunk_size",
            "cache_min_free", "cache_full_wait", "webhook_listen", "webhook_secret_file",
        ]
    }

    /// A TOML integer or float.
    public struct Number: Decodable, Sendable {
        public var value: Double
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let integer = try? container.decode(Int.self) {
                value = Double(integer)
            } else {
                value = try container.decode(Double.self)
            }
        }
    }

    /// A TOML string (`"64G"`, `"10%"`) or integer (bytes), as text.
    public struct SizeText: Decodable, Sendable {
        public var value: String
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let integer = try? container.decode(Int.self) {
                value = String(integer)
            } else {
                value = try container.decode(String.self)
            }
        }
    }

    private struct Document: Decodable {
        var mount: Mount?
    }

    /// The file read, nil when none was found.
    public var path: String?
    public var mount: Mount

    /// No file: every setting comes from flags, the environment or the defaults.
    public static let none = ConfigurationFile(path: nil, mount: Mount())

    /// Reads `explicit` (which must exist), or the first default location that exists.
    public static func load(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> ConfigurationFile
    {
        if let explicit {
            guard FileManager.default.fileExists(atPath: explicit) else {
                throw MountError("config file \(explicit) does not exist")
            }
            return try read(explicit)
        }
        for candidate in defaultPaths(environment: environment) where FileManager.default.fileExists(atPath: candidate) {
            return try read(candidate)
        }
        return .none
    }

    /// `$XDG_CONFIG_HOME/tusfs/tusfs.toml` (or `~/.config/…`), then `/etc/tusfs/tusfs.toml`.
    public static func defaultPaths(environment: [String: String]) -> [String] {
        let base: String
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            base = xdg
        } else {
            base = (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        }
        return [base + "/tusfs/tusfs.toml", "/etc/tusfs/tusfs.toml"]
    }

    private static func read(_ path: String) throws -> ConfigurationFile {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw MountError("cannot read config file \(path)")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch {
            throw MountError("config file \(path): \(error)")
        }
        for key in table.keys where key != "mount" {
            throw MountError("config file \(path): unknown table or key '\(key)' (expected [mount])")
        }
        for key in table["mount"]?.table?.keys ?? [] where !Mount.keys.contains(key) {
            throw MountError("config file \(path): unknown key 'mount.\(key)'")
        }
        do {
            let document = try TOMLDecoder().decode(Document.self, from: table)
            return ConfigurationFile(path: path, mount: document.mount ?? Mount())
        } catch let error as DecodingError {
            throw MountError("config file \(path): \(describe(error))")
        } catch {
            throw MountError("config file \(path): \(error)")
        }
    }

    /// "key mount.transfers has the wrong type" rather than the decoder's debug text.
    private static func describe(_ error: DecodingError) -> String {
        let path: [any CodingKey]
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            path = context.codingPath
        case .keyNotFound(let key, let context):
            // TOMLKit reports a value of the wrong type as a missing key, sometimes with the key already in the path.
            path = context.codingPath.last?.stringValue == key.stringValue ? context.codingPath : context.codingPath + [key]
        @unknown default:
            return "\(error)"
        }
        return "key \(path.map(\.stringValue).joined(separator: ".")) has the wrong type"
    }
}
