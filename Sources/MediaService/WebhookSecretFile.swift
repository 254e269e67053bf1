import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The key webhooks are signed with when none is configured: `DATA/webhook-secret`, 32 random bytes written as
/// 64 hex digits and a newline, mode 0600, made on first use and kept, so a receiver configured with it once keeps
/// verifying across restarts. It is never the API key: whoever verifies webhooks must not hold the management key.
enum WebhookSecretFile {
    /// The key in `file`, or a new one written there.
    static func loadOrCreate(_ file: URL) throws -> String {
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !key.isEmpty { return key }
        }
        let key = RandomHex.make(bytes: 32)
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw MediaServiceError.internalError("cannot write \(file.path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let line = Array((key + "\n").utf8)
        guard write(descriptor, line, line.count) == line.count else {
            throw MediaServiceError.internalError("cannot write \(file.path): \(String(cString: strerror(errno)))")
        }
        return key
    }
}
