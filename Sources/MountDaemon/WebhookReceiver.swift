import Foundation
import Hummingbird
import Logging
import MediaManagerAPI
import MediaService
import UploadEngine

/// `tusfs mount --webhook-listen HOST:PORT`: takes the service's File Ready / File Failed webhooks at
/// `POST /webhook`, so that a file is READY (or FAILED) the moment the service says so instead of at the
/// mount's next status poll; the polls go on, far apart, for events that never arrive.
///
/// Each event must carry `X-Tusfs-Signature: sha256=<hex HMAC-SHA256 of the body>` keyed with the shared
/// webhook secret (compared in constant time); anything else is refused (401) and changes nothing. Answers:
/// 204 taken (also for files the mount does not know: another mount's), 400 not an event, 401 bad signature,
/// 413 a body over 1 MiB.
final class WebhookReceiver: Sendable {
    static let path = "webhook"
    static let maxBody = 1 << 20
    private let listener: DaemonListener
    /// Where the service must post (`http://HOST:PORT/webhook`).
    var url: URL { listener.url.appendingPathComponent(Self.path) }

    private init(listener: DaemonListener) { self.listener = listener }

    static func start(host: String, port: Int, secret: String, engine: UploadEngine, logger: Logger) async throws
        -> WebhookReceiver
    {
        let router = Router()
        router.post(RouterPath(stringLiteral: path)) { request, _ -> Response in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: maxBody)
            } catch {
                return answer(.contentTooLarge, "a webhook body is at most \(maxBody) bytes")
            }
            let bytes = Data(buffer: body)
            let header = WebhookEvent.signatureHeader.lowercased()
            let presented = request.headers.first { $0.name.canonicalName == header }?.value ?? ""
            guard signatureMatches(presented, body: bytes, secret: secret) else {
                logger.warning("refused a webhook with a wrong or missing signature")
                return answer(.unauthorized, "the \(WebhookEvent.signatureHeader) signature does not match")
            }
            guard let report = Report(bytes) else { return answer(.badRequest, "not a File Ready or File Failed event") }
            logger.debug("webhook", metadata: ["event": "\(report.slug)", "file": "\(report.fileID)"])
            await engine.serviceReported(remoteId: report.fileID, report.status)
            return Response(status: .noContent)
        }
        let listener = try await DaemonListener.start(host: host, port: port, router: router, purpose: "webhooks", logger: logger)
        return WebhookReceiver(listener: listener)
    }

    func stop() async {
        await listener.stop()
    }

    /// Whether `presented` is `sha256=` and the hex HMAC-SHA256 of `body` under `secret` (as the stand-in
    /// service signs), compared in time that does not depend on where they differ.
    static func signatureMatches(_ presented: String, body: Data, secret: String) -> Bool {
        ConstantTime.equals(presented.lowercased(), WebhookSender.signature(of: body, secret: secret))
    }

    private static func answer(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: ["message": message])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// One event: which file, and what became of it.
    struct Report {
        var slug: String
        var fileID: String
        var status: ProcessingStatus

        init?(_ body: Data) {
            struct Envelope: Decodable {
                var slug: String
                var entityId: String
            }
            let decoder = JSONDecoder()
            guard let envelope = try? decoder.decode(Envelope.self, from: body), !envelope.entityId.isEmpty else { return nil }
            slug = envelope.slug
            fileID = envelope.entityId
            switch envelope.slug {
            case WebhookEvent.fileReady:
                guard let event = try? decoder.decode(WebhookEnvelope<FileReadyEvent>.self, from: body) else { return nil }
                status = .ready(url: event.actionEvent.body.file.url)
            case WebhookEvent.fileFailed:
                let event = try? decoder.decode(WebhookEnvelope<FileFailedEvent>.self, from: body)
                status = .failed(reason: event?.actionEvent.body.reason ?? "the service reported the file failed")
            default:
                return nil
            }
        }
    }
}
