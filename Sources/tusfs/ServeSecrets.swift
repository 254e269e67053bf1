import Foundation
import MountDaemon

/// Where `tusfs serve` takes its two secrets from: the API key of management calls and the key webhooks are signed
/// with. Each comes from a flag, a file flag (refused when group or others may read the file), or an environment
/// variable, in that order; the flag itself costs a warning, since every user sees arguments in `ps`.
struct ServeSecrets {
    /// One secret's sources.
    struct Source {
        var flag: String
        var value: String?
        var fileFlag: String
        var file: String?
        var variable: String
        var fileVariable: String?
    }

    /// The secret from `source`, or nil when none is given. Prints one warning line on stderr when it came from
    /// the command line.
    static func resolve(_ source: Source, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if source.value != nil, source.file != nil { throw ServeError("give \(source.flag) or \(source.fileFlag), not both") }
        if let value = source.value {
            guard !value.isEmpty else { throw ServeError("\(source.flag) must not be empty") }
            FileHandle.standardError.write(Data(
                "tusfs serve: warning: \(source.flag) shows the secret to every user of this machine (ps); use \(source.fileFlag) or \(source.variable)\n".utf8))
            return value
        }
        if let file = source.file { return try APIKeyFile.read(file, source: source.fileFlag) }
        if let value = environment[source.variable], !value.isEmpty { return value }
        if let variable = source.fileVariable, let file = environment[variable], !file.isEmpty {
            return try APIKeyFile.read(file, source: variable)
        }
        return nil
    }
}
