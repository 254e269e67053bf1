import Foundation
import Logging
import MediaManagerAPI
import Synchronization
import TusServer

/// The state shared by the routes of the media service: database, signing key, directories, background work.
final class MediaService: Sendable {
    let configuration: MediaServiceConfiguration
    let database: MediaDatabase
    let signer: URLSigner
    /// `DATA/content/`: one file per descriptor, named by the hex part of its id.
    let contentDirectory: URL
    /// `DATA/staging/`: plain PUT bodies while they arrive.
    let stagingDirectory: URL
    private let contentDirectoryPath: String
    private let stagingDirectoryPath: String
    let metrics: ServerMetrics
    let logger: Logger
    let processor: FileProcessor
    let importer: Importer
    let tusEndpoint: TusEndpoint
    /// Processing, imports and webhooks in flight; cancelled by ``stopBackgroundWork()``.
    let background = BackgroundTasks()
    /// Cuts each plain upload URL's first PUT once (fault injection `--drop-after-bytes`).
    let putDropper: ConnectionDropper
    private let baseURLState: Mutex<String>

    init(configuration: MediaServiceConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        let data = configuration.dataDirectory
        let fm = FileManager.default
        try fm.createDirectory(at: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        contentDirectory = data.appendingPathComponent("content")
        stagingDirectory = data.appendingPathComponent("staging")
        contentDirectoryPath = contentDirectory.path
        stagingDirectoryPath = stagingDirectory.path
        try fm.createDirectory(at: contentDirectory, withIntermediateDirectories: true)
        try? fm.removeItem(at: stagingDirectory)  // half-received PUT bodies of an earlier run
        try fm.createDirectory(at: stagingDirectory, withIntermediateDirectories: true)
        database = try MediaDatabase(path: data.appendingPathComponent("media.sqlite").path)
        signer = try URLSigner.load(from: data.appendingPathComponent("signing.key"))
        metrics = ServerMetrics()
        putDropper = ConnectionDropper(dropAfterBytes: configuration.faults.dropAfterBytes)
        baseURLState = Mutex(configuration.publicURL.map { Self.trimmed($0.absoluteString) } ?? "\(configuration.scheme)://\(configuration.host):\(configuration.port)")
        let webhooks = WebhookSender(
            url: configuration.webhookURL, secret: try Self.webhookSecret(configuration, logger: logger), logger: logger)
        processor = FileProcessor(
            database: database, contentDirectory: contentDirectory, delay: configuration.processingDelay,
            failureRate: configuration.processingFailureRate, siteID: configuration.siteID, webhooks: webhooks,
            background: background, logger: logger)
        importer = Importer(
            database: database, contentDirectory: contentDirectory, maxSize: configuration.importMaxSize,
            policy: ImportTargetPolicy(
                allowPrivate: configuration.importAllowPrivate, exceptions: configuration.importAllowedAddresses),
            processor: processor, background: background, logger: logger)
        tusEndpoint = try TusEndpoint(
            configuration: TusServerConfiguration(
                storageDirectory: data.appendingPathComponent("tus"), maxSize: configuration.maxUploadSize,
                uploadLifetime: configuration.expireAfter ?? .seconds(24 * 3600), faults: configuration.faults),
            hooks: ResumableUploadHooks(database: database, signer: signer), metrics: metrics, logger: logger)
    }

    /// The configured webhook key, else (with a webhook URL) the one kept in `DATA/webhook-secret`.
    private static func webhookSecret(_ configuration: MediaServiceConfiguration, logger: Logger) throws -> String {
        if let secret = configuration.webhookSecret { return secret }
        guard configuration.webhookURL != nil else { return "" }
        let file = configuration.dataDirectory.appendingPathComponent("webhook-secret")
        let secret = try WebhookSecretFile.loadOrCreate(file)
        logger.notice("webhooks are signed with the key in \(file.path) (set one with --webhook-secret-file)")
        return secret
    }

    /// The base URL descriptors' `url`s and upload URLs start with.
    var baseURL: String { baseURLState.withLock { $0 } }

    /// Sets the base URL once the listener is bound (unless `--public-url` fixed it).
    func listenerBound(host: String, port: Int) {
        guard configuration.publicURL == nil else { return }
        let shownHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        baseURLState.withLock { $0 = "\(configuration.scheme)://\(shownHost):\(port)" }
        processor.setBaseURL(baseURL)
    }

    /// Resumes work an earlier run left (processing of PENDING uploads, imports) and starts the periodic removal
    /// of expired tus uploads.
    func resumeBackgroundWork() async throws {
        processor.setBaseURL(baseURL)
        let store = tusEndpoint.store
        let logger = logger
        let period = min(configuration.expireAfter ?? .seconds(600), .seconds(600))
        background.run {
            while !Task.isCancelled {
                let removed = await store.removeExpired()
                if !removed.isEmpty { logger.info("removed \(removed.count) expired tus upload(s)") }
                do { try await Task.sleep(for: period) } catch { return }
            }
        }
        for file in try await database.files(status: .pending) {
            if file.sourceUrl != nil, !FileManager.default.fileExists(atPath: contentPath(of: file).path) {
                importer.start(file)
            } else {
                processor.schedule(file.id)
            }
        }
    }

    /// Cancels pending processing and imports (they resume at the next start, as the files stay PENDING).
    func stopBackgroundWork() {
        background.cancelAll()
    }

    func descriptor(_ record: FileRecord) -> FileDescriptor {
        record.descriptor(baseURL: baseURL, siteID: configuration.siteID)
    }

    func contentPath(of file: FileRecord) -> URL {
        contentDirectory.appendingPathComponent(file.contentName)
    }

    /// ``contentPath(of:)`` as a path, made without URL parsing (once per upload).
    func contentFilePath(of file: FileRecord) -> String {
        contentDirectoryPath + "/" + file.contentName
    }

    /// The path of staging file `name`.
    func stagingPath(_ name: String) -> String {
        stagingDirectoryPath + "/" + name
    }

    /// The folder a new file goes into: `filePath` (folders created as needed) wins over `parentFolderId`.
    func resolveParent(parentFolderId: String?, filePath: String?) async throws -> String {
        if let filePath, !filePath.isEmpty {
            return try await database.folderPath(try NameRules.folderNames(of: filePath), under: SpecialFolder.mediaRoot)
        }
        let parent = parentFolderId ?? SpecialFolder.mediaRoot
        try await requireFolder(parent)
        return parent
    }

    /// Throws unless `id` names an existing folder (special folders always exist).
    func requireFolder(_ id: String) async throws {
        guard FolderID.isValid(id) else { throw MediaServiceError.invalidArgument("invalid folder id \"\(id.prefix(64))\"") }
        if FolderID.isSpecial(id) { return }
        guard try await database.folder(id) != nil else { throw MediaServiceError.notFound("folder \(id)") }
    }

    /// A new PENDING file record.
    func newFile(
        displayName: String, parentFolderId: String, mimeType: String, isPrivate: Bool, labels: [String],
        externalInfo: ExternalInfo?, sourceUrl: String? = nil, size: Int64 = 0
    ) -> FileRecord {
        let now = Date().timeIntervalSince1970
        return FileRecord(
            id: FileID.make(siteID: configuration.siteID, fileName: displayName), displayName: displayName,
            parentFolderId: parentFolderId, hash: nil, sizeInBytes: size, isPrivate: isPrivate,
            mediaType: MediaKind.mediaType(of: mimeType).rawValue, mimeType: mimeType,
            operationStatus: OperationStatus.pending.rawValue, failureReason: nil, sourceUrl: sourceUrl, labels: labels,
            externalOrigin: externalInfo?.origin, externalIds: externalInfo?.externalIds ?? [], createdAt: now,
            updatedAt: now, state: FileState.ok.rawValue, parentBeforeTrash: nil)
    }

    private static func trimmed(_ url: String) -> String {
        var s = url
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }
}
