import AsyncHTTPClient
import Foundation
import NIOSSL

/// The HTTP client of the commands and of the mount's daemon.
extension HTTPClient.Configuration {
    /// Connect timeout 10 s, read timeout 120 s (a dead connection is noticed and retried), no decompression,
    /// and a refused connection fails the request at once: our own retry policies decide when to try again
    /// (AsyncHTTPClient would otherwise keep reconnecting for minutes inside one request).
    /// https uses the system trust store, plus the certificates in `caFile` (a private CA) when given, and
    /// HTTP/2 when the server offers it (ALPN): many requests as streams of one connection.
    /// `connectionsPerHost` HTTP/1.1 connections are kept open to a host at most (AsyncHTTPClient's default is
    /// 8): one request per connection, so over a slow link it bounds the requests in flight.
    static func tusfsCommand(caFile: String? = nil, connectionsPerHost: Int = 8) throws -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(1, connectionsPerHost)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        if let caFile {
            guard FileManager.default.isReadableFile(atPath: caFile) else { throw MountError("cannot read --ca-file \(caFile)") }
            do {
                _ = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw MountError("--ca-file \(caFile) holds no PEM certificate: \(error)")
            }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.file(caFile)]
            configuration.tlsConfiguration = tls
        }
        return configuration
    }
}

extension HTTPClient {
    /// Runs `body` with an HTTP client for one command run, shut down afterwards whatever happens.
    /// `connectionsPerHost`: HTTP/1.1 connections kept to one host at most (requests in flight at once).
    public static func withCommandClient<T>(
        caFile: String? = nil, connectionsPerHost: Int = 8, _ body: (HTTPClient) async throws -> T
    ) async throws -> T {
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: try HTTPClient.Configuration.tusfsCommand(caFile: caFile, connectionsPerHost: connectionsPerHost))
        do {
            let result = try await body(http)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}
