import TusClient
import UploadEngine

extension ServiceAnswer {
    /// Throws the outage this answer to a probe shows (429, 502, 503, 504, with the service's `Retry-After`);
    /// any other answer, a refusal included, means the service is there.
    func throwingOutage(_ what: String) throws(UploadTargetError) {
        guard UploadTargetError.isOutageStatus(status) else { return }
        throw UploadTargetError.retryable("\(what): the service answered \(status)", status: status, retryAfter: retryAfter)
    }
}

/// One probe request, its failure to get an answer mapped like every other client error.
func probing(_ what: String, _ send: () async throws -> ServiceAnswer) async throws(UploadTargetError) {
    let answer = try await mappingErrors(what) { try await send() }
    try answer.throwingOutage(what)
}
