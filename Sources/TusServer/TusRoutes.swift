import Foundation
import Hummingbird
import NIOCore
import Timekeeping
import TusCore

/// The request handlers of ``TusEndpoint``, one per tus method.
extension TusEndpoint {
    // MARK: OPTIONS

    func options(_ request: Request) -> Response {
        var headers: HTTPFields = [
            .tusResumable: TusVersion.current,
            .tusVersion: TusVersion.supported.joined(separator: ","),
            .tusExtension: TusExtension.headerValue(Self.extensions),
            .tusChecksumAlgorithm: ChecksumAlgorithm.headerValue,
        ]
        if let max = configuration.maxSize { headers[.tusMaxSize] = String(max) }
        return Response(status: .noContent, headers: headers)
    }

    // MARK: POST (creation)

    func create<Context: ChannelRequestContext>(_ request: Request, context: Context) async throws -> Response {
        try Self.checkVersion(request)
        if request.headers[.uploadConcat] != nil {
            throw TusRefusal.badRequest("concatenation is not supported by this server")
        }
        let length = try parseCreationLength(request)
        let metadata: UploadMetadata
        do {
            metadata = try UploadMetadata.parse(request.headers[.uploadMetadata] ?? "")
        } catch {
            throw TusRefusal.badRequest(error.description)
        }
        let withBody = Self.isOffsetOctetStream(request.headers[.contentType])
        if request.headers[.contentType] != nil, !withBody, Self.hasBody(request) {
            throw TusRefusal.wrongContentType(request.headers[.contentType])
        }
        let checksum = try Self.parseChecksum(request)

        let maxLength = try await maximumLength(context)
        if let length, let maxLength, length > maxLength {
            throw TusRefusal.tooLarge("Upload-Length \(length) exceeds the \(maxLength) bytes this upload may hold")
        }

        let id = UploadInfo.makeID()
        let owner = try await hooks.authorizeCreation(
            UploadCreation(uploadID: id, length: length, metadata: metadata, parameters: context.parameters))
        let now = Date()
        var info = UploadInfo(
            id: id, length: length, metadataHeader: metadata.headerValue, createdAt: now,
            expiresAt: configuration.uploadLifetime.map { now.addingTimeInterval($0.seconds) }, owner: owner)
        try await store.create(info)
        logger.info("upload \(id) created", metadata: ["length": "\(length.map(String.init) ?? "deferred")"])

        var headers: HTTPFields = [
            .tusResumable: TusVersion.current,
            .location: Self.location(of: id, under: request.uri.path),
        ]
        if withBody, Self.hasBody(request) {
            info = try await withWriter(id) { [info] in
                if configuration.faults.shouldFail() { throw TusRefusal.injectedFailure }
                return try await receive(request, into: info, maxLength: maxLength, checksum: checksum, context: context)
            }
            headers[.uploadOffset] = String(info.offset)
        } else if length == 0 {
            headers[.uploadOffset] = "0"
        }
        if info.isComplete { await completed(info) }
        if let expires = info.expiresAt, !info.isComplete { headers[.uploadExpires] = HTTPDate.format(expires) }
        return Response(status: .created, headers: headers)
    }

    private func parseCreationLength(_ request: Request) throws -> Int64? {
        let lengthHeader = request.headers[.uploadLength]
        let deferHeader = request.headers[.uploadDeferLength]
        switch (lengthHeader, deferHeader) {
        case (nil, nil):
            throw TusRefusal.badRequest("Upload-Length or Upload-Defer-Length: 1 is required")
        case (.some, .some):
            throw TusRefusal.badRequest("send either Upload-Length or Upload-Defer-Length, not both")
        case (nil, .some(let value)):
            guard value == "1" else { throw TusRefusal.badRequest("Upload-Defer-Length must be 1") }
            return nil
        case (.some(let value), nil):
            let length = try Self.parseCount(value, header: TusHeader.uploadLength)
            if let max = configuration.maxSize, length > max {
                throw TusRefusal.tooLarge("Upload-Length \(length) exceeds Tus-Max-Size \(max)")
            }
            return length
        }
    }

    // MARK: HEAD

    func head<Context: ChannelRequestContext>(_ request: Request, context: Context) async throws -> Response {
        try Self.checkVersion(request)
        let info = try await existingUpload(context)
        var headers: HTTPFields = [
            .tusResumable: TusVersion.current,
            .uploadOffset: String(info.offset),
            .cacheControl: "no-store",
        ]
        if let length = info.length { headers[.uploadLength] = String(length) } else { headers[.uploadDeferLength] = "1" }
        if !info.metadataHeader.isEmpty { headers[.uploadMetadata] = info.metadataHeader }
        if let expires = info.expiresAt, !info.isComplete { headers[.uploadExpires] = HTTPDate.format(expires) }
        return Response(status: .ok, headers: headers)
    }

    // MARK: GET (not part of tus 1.0.0; tusd serves it too)

    /// The data of a finished upload, as an attachment of no particular type (the client's metadata does not
    /// choose how a browser shows it). 409 while the upload is unfinished; no Tus-Resumable needed.
    func download<Context: ChannelRequestContext>(_ request: Request, context: Context) async throws -> Response {
        let info = try await existingUpload(context)
        guard info.isComplete, let length = info.length else { throw TusRefusal.unfinished }
        let headers: HTTPFields = [
            .contentType: "application/octet-stream", .contentLength: String(length), .contentDisposition: "attachment",
            .init("X-Content-Type-Options")!: "nosniff", .cacheControl: "no-store", .tusResumable: TusVersion.current,
        ]
        let body = length == 0 ? ResponseBody() : try await Self.files.loadFile(path: store.dataPath(info.id), context: context)
        return Response(status: .ok, headers: headers, body: body)
    }

    private static let files = FileIO()

    // MARK: PATCH

    func patch<Context: ChannelRequestContext>(_ request: Request, context: Context) async throws -> Response {
        try Self.checkVersion(request)
        guard Self.isOffsetOctetStream(request.headers[.contentType]) else {
            throw TusRefusal.wrongContentType(request.headers[.contentType])
        }
        guard let offsetHeader = request.headers[.uploadOffset] else {
            throw TusRefusal.badRequest("Upload-Offset is required")
        }
        let offset = try Self.parseCount(offsetHeader, header: TusHeader.uploadOffset)
        let newLength = try request.headers[.uploadLength].map { value in try Self.parseCount(value, header: TusHeader.uploadLength) }
        let checksum = try Self.parseChecksum(request)

        let existing = try await existingUpload(context)
        let maxLength = try await maximumLength(context)
        let (info, becameComplete) = try await withWriter(existing.id) {
            var info = try await store.info(existing.id)  // re-read under the lock
            if info.isExpired(at: Date()) { throw TusRefusal.gone("the upload expired") }
            guard offset == info.offset else { throw TusRefusal.offsetMismatch(expected: info.offset, got: offset) }
            if let newLength {
                if let length = info.length {
                    guard length == newLength else {
                        throw TusRefusal.badRequest("Upload-Length \(newLength) differs from the upload's length \(length)")
                    }
                } else {
                    guard newLength >= info.offset else {
                        throw TusRefusal.badRequest("Upload-Length \(newLength) is less than the bytes already received")
                    }
                    if let maxLength, newLength > maxLength {
                        throw TusRefusal.tooLarge("Upload-Length \(newLength) exceeds the \(maxLength) bytes this upload may hold")
                    }
                    info.length = newLength
                    try await store.save(info)
                }
            }
            if configuration.faults.shouldFail() { throw TusRefusal.injectedFailure }
            let wasComplete = info.isComplete
            info = try await receive(request, into: info, maxLength: maxLength, checksum: checksum, context: context)
            return (info, info.isComplete && !wasComplete)
        }
        if becameComplete { await completed(info) }
        var headers: HTTPFields = [.tusResumable: TusVersion.current, .uploadOffset: String(info.offset)]
        if let expires = info.expiresAt, !info.isComplete { headers[.uploadExpires] = HTTPDate.format(expires) }
        return Response(status: .noContent, headers: headers)
    }

    // MARK: DELETE

    func terminate<Context: ChannelRequestContext>(_ request: Request, context: Context) async throws -> Response {
        try Self.checkVersion(request)
        let info = try await existingUpload(context, allowExpired: true)
        try await withWriter(info.id) { await store.remove(info.id) }
        logger.info("upload \(info.id) terminated")
        await hooks.uploadTerminated(info)
        return Response(status: .noContent, headers: [.tusResumable: TusVersion.current])
    }

    // MARK: shared steps

    /// The upload named by the `uploadID` path parameter, after the hooks allowed access.
    private func existingUpload<Context: ChannelRequestContext>(_ context: Context, allowExpired: Bool = false) async throws -> UploadInfo {
        let id = context.parameters.get("uploadID") ?? ""
        let info = try await store.info(id)
        try await hooks.authorizeAccess(to: info, parameters: context.parameters)
        if !allowExpired, info.isExpired(at: Date()) {
            await store.remove(id)
            throw TusRefusal.gone("the upload expired")
        }
        return info
    }

    /// The largest length an upload reached through this route may have: `Tus-Max-Size` or the hooks' own limit
    /// (``TusHooks/lengthLimit(parameters:)``), whichever is smaller.
    private func maximumLength<Context: ChannelRequestContext>(_ context: Context) async throws -> Int64? {
        let own = try await hooks.lengthLimit(parameters: context.parameters)
        switch (configuration.maxSize, own) {
        case (let max?, let own?): return min(max, own)
        case (let max, nil): return max
        case (nil, let own): return own
        }
    }

    /// Streams the request's body into the upload at its offset and records the new offset durably, also when
    /// the body breaks off: every byte that arrived is kept, unless a checksum was sent (then a broken or
    /// mismatching chunk is discarded, as the checksum cannot vouch for it).
    ///
    /// A body longer than the upload's remaining length (its `Upload-Length`, else `maxLength`) is refused with
    /// 413 as soon as it passes (the bytes that fit are kept), and the connection then stops being read
    /// (``RequestBodyCutoff``): however long the body says it is, no more than that is read.
    ///
    /// With ``TusHooks/contentDigestAlgorithms``, each new durable offset is handed to ``BackgroundDigests``, which
    /// hashes the stored bytes behind it. Called holding the upload's writer lock.
    private func receive<Context: ChannelRequestContext>(
        _ request: Request, into info: UploadInfo, maxLength: Int64?, checksum: UploadChecksum?, context: Context
    ) async throws -> UploadInfo {
        var info = info
        let limit = (info.length ?? maxLength).map { $0 - info.offset }
        let channel = context.channel
        var writer = try BodyWriter(path: store.dataPath(info.id), offset: info.offset, checksum: checksum?.algorithm)
        var failure: (any Error)?
        do {
            let dropper = dropper
            try await writer.write(
                request.body, limit: limit, dropAfterBytes: dropper.threshold(for: info.id),
                onBytes: { metrics.addBytesReceived($0) },
                dropConnection: { [id = info.id] in
                    dropper.markDropped(id)
                    channel.close(promise: nil)
                })
        } catch {
            if case TusRefusal.tooLarge = error { RequestBodyCutoff.stopReading(channel) }
            failure = error
        }
        if let checksum {
            let matches = failure == nil && checksum.matches(writer.digest() ?? Data())
            guard matches else {
                writer.truncate(to: info.offset)
                if let failure { throw failure }
                throw TusRefusal.checksumMismatch
            }
        }
        if writer.written > 0 {
            try await writer.sync()
            info.offset += writer.written
            try await store.save(info)
            BackgroundDigests.shared.advance(
                info.id, path: store.dataPath(info.id), to: info.offset, length: info.length, algorithms: hooks.contentDigestAlgorithms)
        }
        if let failure {
            logger.info("upload \(info.id): body ended early at offset \(info.offset): \(failure)")
            throw failure
        }
        return info
    }

    /// Runs `body` holding the writer lock of upload `id` (423 Locked when another writer keeps it).
    private func withWriter<T>(_ id: String, _ body: () async throws -> T) async throws -> T {
        try await store.acquireWriter(id, wait: configuration.lockWait)
        do {
            let result = try await body()
            await store.releaseWriter(id)
            return result
        } catch {
            await store.releaseWriter(id)
            throw error
        }
    }

    private func completed(_ info: UploadInfo) async {
        metrics.countUploadCompleted()
        logger.info("upload \(info.id) complete", metadata: ["bytes": "\(info.offset)"])
        await hooks.uploadCompleted(info)
    }

    static func checkVersion(_ request: Request) throws {
        let version = request.headers[.tusResumable]
        guard version == TusVersion.current else { throw TusRefusal.unsupportedVersion(version) }
    }

    static func isOffsetOctetStream(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return type.lowercased() == TusHeader.offsetOctetStream
    }

    static func hasBody(_ request: Request) -> Bool {
        if let length = request.headers[.contentLength] { return length != "0" }
        return request.headers[.transferEncoding] != nil
    }

    static func parseChecksum(_ request: Request) throws -> UploadChecksum? {
        guard let header = request.headers[.uploadChecksum] else { return nil }
        do {
            return try UploadChecksum.parse(header)
        } catch {
            throw TusRefusal.badRequest(error.description)
        }
    }

    static func parseCount(_ text: String, header: String) throws -> Int64 {
        do {
            return try ByteCount.parse(text, header: header)
        } catch {
            throw TusRefusal.badRequest(error.description)
        }
    }

    static func location(of id: String, under path: String) -> String {
        var base = path
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/\(id)"
    }
}
