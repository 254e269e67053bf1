import Hummingbird
import MediaManagerAPI
import TusCore
import TusServer

/// Ties the tus server to resumable upload URLs: a tus upload may only be created through a valid, unexpired
/// `/upload/tus/TICKET` URL with the URL's `uploadToken` in its metadata (`token`), once per token; and only that
/// URL may touch the upload afterwards. The tus server computes the content hash of each upload while it arrives, so
/// processing (``FileProcessor``) need not read the file again.
struct ResumableUploadHooks: TusHooks {
    let database: MediaDatabase
    let signer: URLSigner

    var contentDigestAlgorithms: [ChecksumAlgorithm] { FileProcessor.contentDigests }

    func authorizeCreation(_ creation: UploadCreation) async throws -> String? {
        let ticket = try ticket(creation.parameters)
        guard !ticket.isExpired else { throw TusRefusal.forbidden("the upload URL has expired") }
        guard let token = creation.metadata[ResumableUploadMetadataKey.token], !token.isEmpty else {
            throw TusRefusal.forbidden("Upload-Metadata must carry the uploadToken as \"token\"")
        }
        guard ConstantTime.equals(token, UploadToken.make(for: ticket, signer: signer)) else {
            throw TusRefusal.forbidden("the upload token does not belong to this upload URL")
        }
        if let name = creation.metadata[ResumableUploadMetadataKey.filename] {
            do { _ = try NameRules.checkName(name, field: "filename") } catch let error as MediaServiceError {
                throw TusRefusal.badRequest(error.message)
            }
        }
        if let type = creation.metadata[ResumableUploadMetadataKey.contentType] {
            do { _ = try MimeTypeRules.check(type, field: "the contentType metadata") } catch let error as MediaServiceError {
                throw TusRefusal.badRequest(error.message)
            }
        }
        if let size = ticket.sizeInBytes, let length = creation.length, size != length {
            throw TusRefusal.badRequest("Upload-Length \(length) differs from the sizeInBytes \(size) of the upload URL")
        }
        guard try await database.claimUploadToken(nonce: ticket.nonce, uploadID: creation.uploadID) else {
            throw TusRefusal.forbidden("the upload token was already used")
        }
        return ticket.nonce
    }

    func authorizeAccess(to upload: UploadInfo, parameters: Parameters) async throws {
        let ticket = try ticket(parameters)
        guard upload.owner == ticket.nonce else { throw TusRefusal.notFound }
    }

    /// The size the upload URL was signed for: a deferred-length upload cannot grow past it either.
    func lengthLimit(parameters: Parameters) async throws -> Int64? {
        try ticket(parameters).sizeInBytes
    }

    private func ticket(_ parameters: Parameters) throws -> UploadTicket {
        guard let text = parameters.get("ticket"), let ticket = try? signer.verify(text, as: UploadTicket.self),
            ticket.kind == .tus
        else { throw TusRefusal.forbidden("the upload URL's signature is not valid") }
        return ticket
    }
}

/// The `uploadToken` of a resumable upload URL: derived from its nonce with the signing key, so it needs no storage.
enum UploadToken {
    static func make(for ticket: UploadTicket, signer: URLSigner) -> String {
        signer.mac("upload-token:\(ticket.nonce)")
    }
}
