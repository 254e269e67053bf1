import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import MediaManagerAPI
import NIOCore
import TusCore

/// Posts File Ready / File Failed events to the `--webhook` URL, signed with HMAC-SHA256.
///
/// The signature header is `X-Tusfs-Signature: sha256=<hex HMAC of the body>`. Delivery is tried three times
/// with a short backoff; failures are logged, never fatal.
public struct WebhookSender: Sendable {
    let url: URL?
    let secret: String
    let logger: Logger

    func fileReady(_ file: MediaManagerAPI.FileDescriptor, externalInfo: ExternalInfo?) {
        let event = WebhookEnvelope(
            id: UUID().uuidString.lowercased(), slug: WebhookEvent.fileReady, entityId: file.id,
            eventTime: ISO8601.format(Date()), body: FileReadyEvent(file: file, externalInfo: externalInfo))
        send(event)
    }

    func fileFailed(fileID: String, externalInfo: ExternalInfo?, reason: String) {
        let event = WebhookEnvelope(
            id: UUID().uuidString.lowercased(), slug: WebhookEvent.fileFailed, entityId: fileID,
            eventTime: ISO8601.format(Date()), body: FileFailedEvent(externalInfo: externalInfo, reason: reason))
        send(event)
    }

    /// The signature header value for `body`.
    public static func signature(of body: Data, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.lowercaseHex
    }

    private func send<Body: Codable & Sendable & Equatable>(_ event: WebhookEnvelope<Body>) {
        guard let url else { return }
        guard let body = try? JSONEncoder().encode(event) else { return }
        let signature = Self.signature(of: body, secret: secret)
        let logger = logger
        Task {
            for attempt in 1...3 {
                do {
                    var request = HTTPClientRequest(url: url.absoluteString)
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.headers.add(name: WebhookEvent.signatureHeader, value: signature)
                    request.body = .bytes(ByteBuffer(bytes: body))
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                    if (200..<300).contains(Int(response.status.code)) { return }
                    logger.warning("webhook \(event.slug) for \(event.entityId): HTTP \(response.status.code) (attempt \(attempt))")
                } catch {
                    logger.warning("webhook \(event.slug) for \(event.entityId) failed: \(error) (attempt \(attempt))")
                }
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }
}
