import Foundation
import MediaManagerAPI

// libFuzzer target `media-requests`: the JSON request bodies of the management API, decoded as the server
// decodes them, then checked as the server checks them.
//
// Production code under test (compiled as is by Scripts/fuzz.sh): the MediaManagerAPI module (the `Codable`
// request types) and, from MediaService, `JSONRequestBody` (the one decoder every route uses), `NameRules`,
// `MimeTypeRules`, `PageCursor`, `Base64URL` and `MediaServiceError`. The input is decoded as every request body type the routes
// decode, one after the other.
//
// Properties: decoding fails only with `DecodingError` (or the service's error for an empty body); a decoded body
// encodes (as MediaManagerClient sends it, with a plain `JSONEncoder`) to JSON that decodes to the same value; the
// route's checks of the decoded fields throw nothing but `MediaServiceError`, and what they accept is within
// their documented limits.

/// The largest upload of the default service configuration.
private let maxUploadSize: Int64 = 64 << 30

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let body = Data(UnsafeRawBufferPointer(start: start, count: count))
    check(GenerateFileUploadURLRequest.self, body) { try checkUpload($0) }
    check(GenerateFileResumableUploadURLRequest.self, body) { try checkUpload($0.plain) }
    check(ImportFileRequest.self, body) { request in
        _ = try request.displayName.map { try checkedName($0) }
        _ = try request.mimeType.map { try checkedMimeType($0) }
        _ = try request.mediaType.map { try MimeTypeRules.checkMediaTypes([$0]) }
        _ = try checkedLabels(request.labels)
        _ = try NameRules.checkExternalInfo(request.externalInfo)
        _ = try request.filePath.map { try checkedPath($0) }
    }
    check(GetFileDescriptorsRequest.self, body) { _ in }
    check(SearchFilesRequest.self, body) { request in
        try checkPaging(request.paging ?? .init())
        _ = try NameRules.checkSearch(request.search)
        try MimeTypeRules.checkMediaTypes(request.mediaTypes ?? [])
    }
    check(UpdateFileDescriptorRequest.self, body) { request in
        _ = try request.file.displayName.map { try checkedName($0) }
        _ = try request.file.labels.map { try checkedLabels($0) }
    }
    check(BulkDeleteFilesRequest.self, body) { _ in }
    check(GenerateDownloadURLRequest.self, body) { _ in }
    check(CreateFolderRequest.self, body) { request in _ = try checkedName(request.displayName) }
    check(UpdateFolderRequest.self, body) { request in _ = try request.folder.displayName.map { try checkedName($0) } }
    check(BulkDeleteFoldersRequest.self, body) { _ in }
    return 0
}

/// Decodes `body` as `T` the server's way, checks the round trip, then runs the route's checks.
private func check<T: Codable & Equatable>(_ type: T.Type, _ body: Data, routeChecks: (T) throws -> Void) {
    let request: T
    do {
        request = try JSONRequestBody.decode(T.self, from: body)
    } catch is DecodingError {
        return
    } catch MediaServiceError.invalidArgument where body.isEmpty {
        return
    } catch {
        fatalError("\(T.self): decoding failed with \(error), not a DecodingError")
    }
    let encoded: Data
    do {
        encoded = try JSONEncoder().encode(request)
    } catch {
        fatalError("\(T.self): \(request) does not encode: \(error)")
    }
    do {
        let again = try JSONRequestBody.decode(T.self, from: encoded)
        guard again == request else {
            fatalError("\(T.self): \(request) comes back as \(again) through \(String(decoding: encoded, as: UTF8.self))")
        }
    } catch {
        fatalError("\(T.self): \(String(decoding: encoded, as: UTF8.self)) does not decode: \(error)")
    }
    do {
        try routeChecks(request)
    } catch is MediaServiceError {
        return
    } catch {
        fatalError("\(T.self): the route's checks threw \(error), not a MediaServiceError")
    }
}

/// The checks of `generate-upload-url` and `generate-resumable-upload-url` that need no database.
private func checkUpload(_ request: GenerateFileUploadURLRequest) throws {
    _ = try checkedMimeType(request.mimeType)
    _ = try request.fileName.map { try checkedName($0) }
    if let text = request.sizeInBytes {
        let size = try NameRules.checkSizeInBytes(text, limit: maxUploadSize)
        guard size >= 0, size <= maxUploadSize, String(size) == text.drop(while: { $0 == "0" }) || size == 0 else {
            fatalError("sizeInBytes \(text.debugDescription) accepted as \(size)")
        }
    }
    _ = try checkedLabels(request.labels)
    _ = try NameRules.checkExternalInfo(request.externalInfo)
    _ = try request.filePath.map { try checkedPath($0) }
}

private func checkedMimeType(_ mimeType: String) throws -> String {
    let checked = try MimeTypeRules.check(mimeType)
    let halves = checked.split(separator: "/", omittingEmptySubsequences: false)
    guard halves.count == 2, MimeTypeRules.isTopLevelType(halves[0]), !halves[1].isEmpty,
        checked == checked.lowercased(), checked.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ";") })
    else { fatalError("mimeType \(mimeType.debugDescription) accepted as \(checked.debugDescription)") }
    return checked
}

private func checkedName(_ name: String) throws -> String {
    let checked = try NameRules.checkName(name, field: "displayName")
    guard !checked.isEmpty, checked.unicodeScalars.count <= 200, !checked.contains("/"), checked != ".", checked != "..",
        !checked.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || (0x202A...0x202E).contains($0.value) })
    else { fatalError("name \(checked.debugDescription) accepted") }
    return checked
}

private func checkedLabels(_ labels: [String]?) throws -> [String] {
    let checked = try NameRules.checkLabels(labels)
    guard checked.count <= 100, checked.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.count <= 100 }) else {
        fatalError("labels \(checked) accepted")
    }
    return checked
}

private func checkedPath(_ filePath: String) throws -> [String] {
    let names = try NameRules.folderNames(of: filePath)
    for name in names { _ = try checkedName(name) }
    return names
}

/// `paging.limit` and `paging.cursor` as `files/search` reads them.
private func checkPaging(_ paging: CursorPaging) throws {
    let limit = try PageCursor.limit(paging.limit)
    guard (1...100).contains(limit) else { fatalError("paging.limit \(String(describing: paging.limit)) gives \(limit)") }
    let offset = try PageCursor.decode(paging.cursor)
    guard offset >= 0, (try? PageCursor.decode(PageCursor.encode(offset: offset))) == offset else {
        fatalError("paging.cursor \(String(describing: paging.cursor)) gives offset \(offset)")
    }
}
