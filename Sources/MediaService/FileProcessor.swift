import Crypto
import Foundation
import Logging
import MediaManagerAPI
import Synchronization
import TusCore
import TusServer

/// "Processing" of uploaded files: after `--processing-delay`, a PENDING file becomes READY (hash and size
/// computed from its content) or FAILED (empty content, missing content, or an injected failure), and the
/// matching webhook is sent.
///
/// The hash is MD5. Uploads (tus and plain PUT) are hashed in the background while they arrive
/// (``BackgroundDigests``); processing takes that digest, finishing what is left of it, instead of reading the whole
/// file again. Files this process did not receive (an import, a restart before processing) are read.
final class FileProcessor: Sendable {
    /// The algorithm of the descriptors' `hash`.
    static let hashAlgorithm = ChecksumAlgorithm.md5

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
            BackgroundDigests.shared.digest(ofFileAt: path, algorithm: Self.hashAlgorithm).map { ($0.size, $0.digest.lowercaseHex) }
                ?? Self.digest(path: path)
        }
        guard let (size, hash) = digest else {
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
            stored.operationStatus = OperationStatus.ready.rawValue
            stored.updatedAt = now
            return true
        }), updated.changed else { return }
        file = updated.file
        logger.info("file \(id) READY", metadata: ["bytes": "\(size)"])
        webhooks.fileReady(file.descriptor(baseURL: baseURL.withLock { $0 }, siteID: siteID), externalInfo: file.externalInfo)
    }

    /// Size and MD5 (hex) of a file, read in 1 MiB pieces; nil when it cannot be read.
    static func digest(path: String) -> (Int64, String)? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var md5 = Insecure.MD5()
        var size: Int64 = 0
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch { return nil }
            if chunk.isEmpty { break }
            md5.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (size, md5.finalize().lowercaseHex)
    }

}
