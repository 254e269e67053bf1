import Foundation
import Logging
import MediaManagerAPI
import Synchronization
import TusCore
import TusServer

/// "Processing" of uploaded files: after `--processing-delay`, a PENDING file becomes READY (hash, CRC-32 and
/// size computed from its content) or FAILED (empty content, missing content, or an injected failure), and the
/// matching webhook is sent.
///
/// The hash is SHA-256 (hex): with the CPU's SHA instructions it costs under half of MD5 (about 0.55 s of CPU per
/// GiB here, MD5 1.4 s), which matters on a small machine that hashes while it receives. Uploads (tus and plain
/// PUT) are hashed in the background while they arrive (``BackgroundDigests``); processing takes that digest,
/// finishing what is left of it, instead of reading the whole file again. Files this process did not receive
/// (an import, a restart before processing) are read.
///
/// The CRC-32 (IEEE, as zlib's) is computed beside the hash in the same read of each piece; the content's
/// downloads carry it (`x-amz-checksum-crc32`, ``ContentRoutes``) so a client can check a download for a tenth of
/// SHA-256's CPU (about 0.07 s per GiB here).
final class FileProcessor: Sendable {
    /// The algorithm of the descriptors' `hash`.
    static let hashAlgorithm = ChecksumAlgorithm.sha256
    /// The algorithm of the checksum sent with downloads.
    static let checksumAlgorithm = ChecksumAlgorithm.crc32
    /// Every digest of an upload computed while it arrives.
    static let contentDigests = [hashAlgorithm, checksumAlgorithm]

    let database: MediaDatabase
    let contentDirectory: URL
    let delay: Duration
    let failureRate: Double
    let siteID: String
    let webhooks: WebhookSender
    let logger: Logger
    let background: BackgroundTasks
    private let baseURL = Mutex("")

    init(
        database: MediaDatabase, contentDirectory: URL, delay: Duration, failureRate: Double, siteID: String,
        webhooks: WebhookSender, background: BackgroundTasks, logger: Logger
    ) {
        self.background = background
        self.database = database
        self.contentDirectory = contentDirectory
        self.delay = delay
        self.failureRate = failureRate
        self.siteID = siteID
        self.webhooks = webhooks
        self.logger = logger
    }

    func setBaseURL(_ url: String) { baseURL.withLock { $0 = url } }

    /// Processes file `id` after the delay, in the background.
    func schedule(_ id: String) {
        background.run { [self] in
            do { try await Task.sleep(for: delay) } catch { return }  // cancelled: the service stopped
            do {
                try await process(id)
            } catch {
                logger.error("processing \(id) failed: \(error)")
            }
        }
    }

    /// Marks a PENDING file FAILED with `reason` and sends File Failed.
    func fail(_ id: String, reason: String) async throws {
        let now = Date().timeIntervalSince1970
        let stored = try await database.modifyFile(id) { file in
            guard file.operationStatus == OperationStatus.pending.rawValue else { return false }
            file.operationStatus = OperationStatus.failed.rawValue
            file.failureReason = reason
            file.updatedAt = now
            return true
        }
        guard let (file, changed) = stored, changed else { return }
        logger.info("file \(id) FAILED: \(reason)")
        webhooks.fileFailed(fileID: id, externalInfo: file.externalInfo, reason: reason)
    }

    private func process(_ id: String) async throws {
        guard var file = try await database.file(id), file.operationStatus == OperationStatus.pending.rawValue else { return }
        let path = contentDirectory.appendingPathComponent(file.contentName).path
        let digest = try await runBlocking {
            BackgroundDigests.shared.digests(ofFileAt: path, algorithms: Self.contentDigests).flatMap(Self.hexDigests)
                ?? Self.digests(path: path)
        }
        guard let (size, hash, crc32) = digest else {
            return try await fail(id, reason: "the file's content is missing")
        }
        if failureRate > 0, Double.random(in: 0..<1) < failureRate {
            return try await fail(id, reason: "injected processing failure")
        }
        // Only the processing fields, in one transaction: a rename or a move to the trash made while the content
        // was read must stay.
        let now = Date().timeIntervalSince1970
        guard let updated = try await database.modifyFile(id, { stored in
            guard stored.operationStatus == OperationStatus.pending.rawValue else { return false }
            stored.sizeInBytes = size
            stored.hash = hash
            stored.crc32 = crc32
            stored.operationStatus = OperationStatus.ready.rawValue
            stored.updatedAt = now
            return true
        }), updated.changed else { return }
        file = updated.file
        logger.info("file \(id) READY", metadata: ["bytes": "\(size)"])
        webhooks.fileReady(file.descriptor(baseURL: baseURL.withLock { $0 }, siteID: siteID), externalInfo: file.externalInfo)
    }

    /// Size, ``hashAlgorithm`` digest and ``checksumAlgorithm`` digest (hex) of a file, read once in 1 MiB
    /// pieces; nil when it cannot be read.
    static func digests(path: String) -> (Int64, String, String)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        var hashers = contentDigests.map { $0.makeHasher() }
        do {
            try ChecksumHasher.update(&hashers, descriptor: fd, from: 0, to: Int64(info.st_size), blockSize: 1 << 20)
        } catch {
            return nil
        }
        return hexDigests((Int64(info.st_size), hashers.digests))
    }

    private static func hexDigests(_ result: (size: Int64, digests: [ChecksumAlgorithm: Data])) -> (Int64, String, String)? {
        guard let hash = result.digests[hashAlgorithm], let checksum = result.digests[checksumAlgorithm] else { return nil }
        return (result.size, hash.lowercaseHex, checksum.lowercaseHex)
    }
}
