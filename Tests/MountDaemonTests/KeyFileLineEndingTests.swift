import Foundation
import MountDaemon
import TestSupport
import Testing

/// `APIKeyFile` reads the key of `--api-key-file` for the mount and for `tusfs serve` (API key and webhook secret):
/// a file saved with Windows line endings, or with spaces around the key, gives the key alone.
@Suite struct KeyFileLineEndingTests {
    @Test(arguments: ["k3y\r\n", "k3y\n", "k3y", "  k3y \t\r\n", "k3y\r\nsecond line\r\n", "\r\nk3y\r\n"])
    func keyWithoutLineEnding(_ contents: String) throws {
        let directory = try TemporaryDirectory("keyfile")
        defer { directory.remove() }
        let path = directory.appending("key")
        _ = FileManager.default.createFile(atPath: path, contents: Data(contents.utf8), attributes: [.posixPermissions: 0o600])
        #expect(try APIKeyFile.read(path, source: "--api-key-file") == "k3y")
    }
}
