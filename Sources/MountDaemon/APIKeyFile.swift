import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file holding a service's API key (`--api-key-file`, `TUSFS_API_KEY_FILE`, `api_key_file`): the key is
/// never an argument, which every user sees in `ps`.
public enum APIKeyFile {
    /// The key in `path`: its first line, without the line ending (`\n` or `\r\n`) and surrounding white space.
    /// Refused when the file is readable by group or others, or empty; `source` names where the path came from
    /// in the message (`--api-key-file`, `TUSFS_API_KEY_FILE`).
    public static func read(_ path: String, source: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw MountError("cannot read \(source) \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw MountError(
                "\(source) \(path) is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw MountError("cannot read \(source) \(path)")
        }
        // Lines end at any newline: "\r\n" is one Character, so splitting at "\n" alone kept a CRLF key whole.
        guard let key = text.split(whereSeparator: \.isNewline).first?.trimmingCharacters(in: .whitespacesAndNewlines),
            !key.isEmpty
        else {
            throw MountError("\(source) \(path) is empty")
        }
        return key
    }
}
