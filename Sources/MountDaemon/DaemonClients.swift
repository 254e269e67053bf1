import AsyncHTTPClient
import Foundation
import Logging
import MediaManagerClient
import TusClient

/// The protocol clients of a mount's daemon.
///
/// Their own retries are kept short (3 attempts within about a second, and a tus upload's count starts again
/// whenever the server takes new bytes): a blip is absorbed quietly, and anything longer surfaces in the
/// upload engine, which shows the file as `failed` with the error and the time of its next attempt, and
/// retries it with a longer backoff. A 429 is not retried here: it goes to the engine at once, which pauses
/// as the service asked and sends fewer requests at once (`RequestWindow`).
enum DaemonClients {
    static let retryPolicy: RequestRetryPolicy = {
        var policy = RequestRetryPolicy.quick
        policy.retriesThrottled = false
        return policy
    }()

    /// PATCHes start at the default chunk size and grow up to `maxChunkSize` while the link is fast.
    static func tus(http: HTTPClient, maxChunkSize: Int64) -> TusUploader {
        TusUploader(
            httpClient: http, configuration: TusUploader.Configuration(maximumChunkSize: maxChunkSize, retryPolicy: retryPolicy),
            logger: Logger(label: "tusfs.tus-client"))
    }

    static func mediaManager(endpoint: URL, credentials: MediaManagerCredentials, http: HTTPClient, tus: TusUploader) -> MediaManagerClient {
        MediaManagerClient(
            endpoint: endpoint, credentials: credentials, httpClient: http, tus: tus, retryPolicy: retryPolicy,
            logger: Logger(label: "tusfs.media-manager-client"))
    }
}
