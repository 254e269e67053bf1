import AsyncHTTPClient
import Foundation
import Logging
import MediaManagerClient
import MirrorFilesystem
import TusClient
import UploadEngine
import UploadTargets

/// The upload side of a running mount: the HTTP client, the embedded service when used, the target and the
/// engine with its journal (`CACHE/journal.sqlite`). Started before the mount is offered to the kernel, so
/// the first file event finds a running engine; stopped after unmount.
final class UploadRuntime: Sendable, CustomStringConvertible {
    let engine: UploadEngine
    /// The files' copies on the service, for the cache to evict to and read back from.
    let remoteCopies: ServiceCopies
    private let http: HTTPClient
    private let embedded: EmbeddedService?
    let description: String

    private init(
        engine: UploadEngine, http: HTTPClient, embedded: EmbeddedService?, description: String, kind: UploadDestination.Kind,
        client: MediaManagerClient?
    ) {
        self.engine = engine
        self.http = http
        // A Media Manager service serves every READY file; a plain tus server may give an upload's data back
        // at its URL (tusd does) or not: asked once.
        var dataBack = ServiceCopies.DataBack.always
        if case .tus = kind { dataBack = .ifTheServerAnswers(TusDataProbe()) }
        // A private file is served only at a generated, signed download URL.
        let downloadURL = client.map(Self.downloadURL(from:))
        remoteCopies = ServiceCopies(engine: engine, http: http, dataBack: dataBack, downloadURL: downloadURL)
        self.embedded = embedded
        self.description = description
    }

    static func start(
        destination: UploadDestination, cache: CacheDirectory, maxChunkSize: Int64, configuration: UploadEngineConfiguration,
        logger: Logger
    ) async throws -> UploadRuntime {
        // Every small-file request of the window, every transfer, plus the prepared upload URLs and the polls.
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: try HTTPClient.Configuration.tusfsCommand(
                caFile: destination.caFile,
                connectionsPerHost: configuration.maxRequests + configuration.parallelTransfers + preparedURLRequests(configuration)))
        var embedded: EmbeddedService?
        do {
            let target: any UploadTarget
            var client: MediaManagerClient?
            let tus = DaemonClients.tus(http: http, maxChunkSize: maxChunkSize)
            var description = destination.description
            switch destination.kind {
            case .tus(let endpoint):
                target = TusTarget(endpoint: endpoint, tus: tus, logger: Logger(label: "tusfs.target"))
            case .mediaManager(let endpoint):
                let mediaManager = DaemonClients.mediaManager(endpoint: endpoint, credentials: destination.credentials, http: http, tus: tus)
                client = mediaManager
                target = MediaManagerTarget(
                    client: mediaManager,
                    rootFolder: destination.remoteFolder, preparedURLRequests: preparedURLRequests(configuration),
                    logger: Logger(label: "tusfs.target"))
            case .embedded:
                let service = try await EmbeddedService.start(cache: cache, logger: Logger(label: "tusfs.embedded-service"))
                embedded = service
                description += " at \(service.running.baseURL.absoluteString)"
                let mediaManager = DaemonClients.mediaManager(
                    endpoint: service.running.apiURL, credentials: MediaManagerCredentials(apiKey: service.apiKey), http: http, tus: tus)
                client = mediaManager
                target = MediaManagerTarget(
                    client: mediaManager,
                    // In-process on loopback: no round trip to cover, and every connection costs two descriptors.
                    rootFolder: destination.remoteFolder, preparedURLRequests: PreparedUploadURLs.defaultConcurrency,
                    logger: Logger(label: "tusfs.target"))
            }
            let journal: UploadJournal
            do {
                journal = try UploadJournal(path: cache.journal)
            } catch {
                throw MountError("cannot open the upload journal \(cache.journal): \(error)")
            }
            let engine = UploadEngine(
                journal: journal, target: target, cacheRoot: cache.files, configuration: configuration,
                logger: Logger(label: "tusfs.upload-engine"))
            do {
                try await engine.start()
                // Counting the earlier files and checking the cache for changes made while unmounted run in
                // the background: the mount is offered at once whatever the number of files.
                await engine.reconcileInBackground()
            } catch {
                throw MountError("cannot resume from the upload journal \(cache.journal): \(error)")
            }
            return UploadRuntime(
                engine: engine, http: http, embedded: embedded, description: description, kind: destination.kind, client: client)
        } catch {
            await embedded?.stop()
            try? await http.shutdown()
            throw error
        }
    }

    /// Where a private file's signed download URL comes from: the service generates one, valid an hour.
    private static func downloadURL(from client: MediaManagerClient) -> ServiceCopies.DownloadURL {
        { @Sendable (fileID: String) async throws -> String in
            let urls = try await client.downloadURLs(fileID: fileID, expirationInMinutes: 60)
            guard let url = urls.first?.url else { throw ReadBackError("the service generated no download URL") }
            return url
        }
    }

    /// Upload URL requests made ahead of the uploads at once: half the request cap, so that over a slow link
    /// URLs are ready as fast as the PUTs use them, and at least the four that measured best on loopback.
    static func preparedURLRequests(_ configuration: UploadEngineConfiguration) -> Int {
        max(4, configuration.maxRequests / 2)
    }

    /// Stops the engine (unfinished uploads stay in the journal, after the chunks in flight have landed, for
    /// 30 s at most), the HTTP client and the embedded service.
    func stop() async {
        await engine.shutdown(waitForUploads: false, chunkGrace: .seconds(30))
        try? await http.shutdown()
        await embedded?.stop()
    }
}
