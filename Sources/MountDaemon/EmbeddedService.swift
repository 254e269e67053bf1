import Foundation
import Logging
import MediaService
#if canImport(Glibc)
import Glibc
#endif

/// The stand-in service that `tusfs mount` runs in-process when no `--endpoint` or `--tus` is given, so a
/// first try needs no account. Data lives in `CACHE/server/`; it listens on a loopback port that is kept
/// in `CACHE/server/port` and reused at the next mount when free, so file URLs stay valid; its API key is
/// random, made once, in `CACHE/server/api-key` (mode 0600).
struct EmbeddedService {
    let running: RunningMediaService
    let apiKey: String

    static func start(cache: CacheDirectory, logger: Logger) async throws -> EmbeddedService {
        let directory = URL(fileURLWithPath: cache.path).appendingPathComponent("server")
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw MountError("cannot create \(directory.path): \(error.localizedDescription)")
        }
        let apiKey = try Self.apiKey(in: directory.appendingPathComponent("api-key").path)
        let portFile = directory.appendingPathComponent("port").path
        let previousPort = (try? String(contentsOfFile: portFile, encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        var running: RunningMediaService?
        for port in [previousPort, 0].compactMap({ $0 }) {
            let configuration = MediaServiceConfiguration(
                host: "127.0.0.1", port: port, dataDirectory: directory, apiKey: apiKey)
            do {
                running = try await MediaServer(configuration: configuration, logger: logger).start()
                break
            } catch {
                if port == 0 { throw MountError("cannot start the embedded service: \(error)") }
                logger.notice("port \(port) of the embedded service is taken, picking another")
            }
        }
        guard let running else { throw MountError("cannot start the embedded service") }
        try? "\(running.port)\n".write(toFile: portFile, atomically: true, encoding: .utf8)
        logger.info("embedded service listening on \(running.baseURL.absoluteString)")
        return EmbeddedService(running: running, apiKey: apiKey)
    }

    func stop() async { await running.stop() }

    /// The key in `file`, or a new random one written there with mode 0600.
    private static func apiKey(in file: String) throws -> String {
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !key.isEmpty { return key }
        }
        var bytes = [UInt8](repeating: 0, count: 24)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        let key = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let descriptor = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw MountError("cannot write \(file): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let line = Array((key + "\n").utf8)
        guard write(descriptor, line, line.count) == line.count else {
            throw MountError("cannot write \(file): \(String(cString: strerror(errno)))")
        }
        return key
    }
}
