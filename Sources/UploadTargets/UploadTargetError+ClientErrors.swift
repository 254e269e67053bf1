import AsyncHTTPClient
import Foundation
import MediaManagerClient
import TusClient
import UploadEngine

extension UploadTargetError {
    /// The one mapping of client errors to the engine's retryable or permanent failures.
    ///
    /// - network errors and timeouts: retryable outages (``UploadTargetError/unreachable(_:)``);
    /// - 408, 429 and 5xx: retryable (the clients have already retried them); 429, 502, 503, 504 are outages;
    /// - an upload gone from the server: retryable (the next attempt makes a new one);
    /// - other 4xx: permanent, with the server's message and status;
    /// - the cache file missing or unreadable: permanent;
    /// - cancellation: retryable with the message "cancelled" (the engine drops results of requests it
    ///   cancelled; a retryable error keeps the resume data should one reach it anyway).
    static func from(_ error: any Error, doing what: String) -> UploadTargetError {
        if Task.isCancelled || error is CancellationError { return .retryable("cancelled") }
        switch error {
        case let error as UploadTargetError:
            return error
        case let error as MediaManagerError:
            switch error {
            case .http(let status, let message): return .fromStatus(status, message: "\(what): \(message)")
            case .busy(let status, let message, let wait):
                return UploadTargetError(retryable: true, message: "\(what): \(message)", status: status, retryAfter: wait)
            case .network(let message): return .unreachable("\(what): network error: \(message)")
            case .invalidResponse(let message): return .retryable("\(what): unexpected answer: \(message)")
            case .file(let path, let message): return .permanent("\(path): \(message)")
            case .timedOut: return .retryable("\(what): \(error)")
            }
        case let error as TusError:
            switch error {
            case .http(let status, let message):
                return .fromStatus(status, message: "\(what): \(message.isEmpty ? "HTTP \(status)" : message)")
            case .busy(let status, let message, let wait):
                return UploadTargetError(
                    retryable: true, message: "\(what): \(message.isEmpty ? "HTTP \(status)" : message)", status: status,
                    retryAfter: wait)
            case .uploadNotFound: return .retryable("\(what): \(error)")
            case .network: return .unreachable("\(what): \(error)")
            case .protocolViolation: return .retryable("\(what): \(error)")
            case .file(let path, let message): return .permanent("\(path): \(message)")
            case .invalidMetadata: return .permanent("\(what): \(error)")
            case .tooLarge: return .permanent("\(what): \(error)", status: 413)
            }
        case let error as CocoaError where error.isFileError:
            return .permanent("\(what): \(error.localizedDescription)")
        default:
            // HTTPClientError (timeouts, connection refused, …), NIO channel errors: the network.
            return .unreachable("\(what): \(error)")
        }
    }

    /// Retryable for 408, 429 and 5xx; permanent for every other status.
    static func fromStatus(_ status: Int, message: String) -> UploadTargetError {
        let retryable = status == 408 || status == 429 || status >= 500
        return UploadTargetError(retryable: retryable, message: message, status: status)
    }
}

/// Runs `body`, turning whatever it throws into an ``UploadTargetError`` (see ``UploadTargetError/from(_:doing:)``).
func mappingErrors<T>(_ what: String, _ body: () async throws -> T) async throws(UploadTargetError) -> T {
    do {
        return try await body()
    } catch {
        throw UploadTargetError.from(error, doing: what)
    }
}
