import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// https: `tusfs serve --tls-cert/--tls-key`, and clients trusting a private CA with `--ca-file`.
@Suite("TLS", .serialized)
struct TLSTests {
    /// A private CA and a server certificate for 127.0.0.1 signed by it, made with openssl.
    struct PrivateCA {
        let directory: TemporaryDirectory
        var caCertificate: String { directory.appending("ca.pem") }
        var serverCertificate: String { directory.appending("server.pem") }
        var serverKey: String { directory.appending("server.key") }

        init() throws {
            directory = try TemporaryDirectory("tls")
            let d = directory.path
            let script = """
                set -e
                cd '\(d)'
                openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=tusfs test CA' 2>/dev/null
                openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1' 2>/dev/null
                printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > ext
                openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext 2>/dev/null
                """
            let result = try ProcessRunner.shell(script)
            guard result.succeeded else {
                directory.remove()
                throw TestFailure("openssl: \(result.stderr)")
            }
        }
    }

    @Test func serveSpeaksHttpsAndClientsTrustAPrivateCA() async throws {
        let ca = try PrivateCA()
        defer { ca.directory.remove() }
        let server = try ServeProcess.start(arguments: ["--tls-cert", ca.serverCertificate, "--tls-key", ca.serverKey])
        defer { server.stop() }
        #expect(server.baseURL.scheme == "https")
        let health = server.baseURL.appendingPathComponent("healthz").absoluteString
        let trusted = try ProcessRunner.run("curl", ["-sS", "--cacert", ca.caCertificate, health])
        #expect(trusted.succeeded && trusted.stdout == "ok\n", "\(trusted.stderr)")
        let untrusted = try ProcessRunner.run("curl", ["-sS", health])
        #expect(untrusted.status == 60, "curl without the CA: \(untrusted.status) \(untrusted.stderr)")
        let plain = try ProcessRunner.run("curl", ["-sS", "--max-time", "5", health.replacingOccurrences(of: "https:", with: "http:")])
        #expect(!plain.succeeded || !plain.stdout.contains("ok"), "plain http must not be served")

        // One-shot uploads, small (PUT) and large (tus), with and without the CA.
        let file = ca.directory.appending("clip.bin")
        try MixedTree.largeFile(file, size: 12 << 20)
        let upload = try ProcessRunner.run(
            ProcessRunner.tusfsExecutable, ["upload", file, "--endpoint", server.apiURL.absoluteString, "--ca-file", ca.caCertificate])
        #expect(upload.succeeded, "\(upload.stderr)")
        #expect(upload.stdout.contains("\"id\""), "\(upload.stdout)")
        let refused = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["upload", file, "--endpoint", server.apiURL.absoluteString])
        #expect(!refused.succeeded)
        #expect(refused.stderr.lowercased().contains("certificate") || refused.stderr.lowercased().contains("tls")
            || refused.stderr.lowercased().contains("ssl"), "\(refused.stderr)")

        // The mount uploads over https too.
        let mount = try TusfsMount(
            "tls-mount", extraArguments: ["--endpoint", server.apiURL.absoluteString, "--ca-file", ca.caCertificate, "--write-back", "0"])
        defer { mount.cleanup() }
        #expect(try ProcessRunner.run("cp", [file, mount.path("clip.bin")]).succeeded)
        let wait = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["wait", mount.mountpoint, "--timeout", "120"])
        #expect(wait.status == 0, "\(wait.stderr)")
        let url = try ProcessRunner.run("getfattr", ["--only-values", "-n", "user.tusfs.url", mount.path("clip.bin")]).stdout
        #expect(url.hasPrefix("https://"), "\(url)")
        let downloaded = ca.directory.appending("downloaded.bin")
        #expect(try ProcessRunner.run("curl", ["-sS", "--cacert", ca.caCertificate, "-o", downloaded, url]).succeeded)
        #expect(try TreeComparison.sameBytes(file, downloaded))
    }

    @Test func badTLSFilesGetOneLine() throws {
        let directory = try TemporaryDirectory("tls-bad")
        defer { directory.remove() }
        let notPEM = directory.appending("not.pem")
        try "hello\n".write(toFile: notPEM, atomically: true, encoding: .utf8)
        let onlyCert = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["serve", "--listen", "127.0.0.1:0", "--data", directory.appending("d"), "--tls-cert", notPEM])
        #expect(!onlyCert.succeeded && onlyCert.stderr.contains("together"), "\(onlyCert.stderr)")
        let upload = try ProcessRunner.run(
            ProcessRunner.tusfsExecutable, ["upload", notPEM, "--endpoint", "https://127.0.0.1:9", "--ca-file", notPEM])
        #expect(!upload.succeeded && upload.stderr.contains("no PEM certificate"), "\(upload.stderr)")
    }
}
