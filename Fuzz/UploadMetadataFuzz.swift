import Foundation
import TusCore

// libFuzzer target `upload-metadata`: the `Upload-Metadata` parser and encoder of TusCore (`UploadMetadata`).
//
// For every input:
// 1. The bytes as a header value (as a server receives it): `UploadMetadata.parse` either rejects it with its typed
//    `UploadMetadataError` (typed throws: nothing else can come out) or returns metadata whose `headerValue` parses
//    back to the same metadata: same keys, same order, same bytes.
// 2. The bytes as pairs, split at NUL bytes (key, value, key, value…), as a client builds metadata: every pair that
//    `setValue` accepts ends up in a `headerValue` that `parse` reads back to the same metadata. So a key the type
//    lets a client set can always be read by the server.
//
// A broken property stops the run with `fatalError`, which libFuzzer reports as a crash with its input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    checkParsed(String(decoding: bytes, as: UTF8.self))
    checkBuilt(Array(bytes))
    return 0
}

private func checkParsed(_ header: String) {
    let metadata: UploadMetadata
    do {
        metadata = try UploadMetadata.parse(header)
    } catch {
        guard !error.message.isEmpty else { fatalError("rejected without a reason: \(header.debugDescription)") }
        return
    }
    checkRoundTrip(metadata, input: header.debugDescription)
}

private func checkBuilt(_ bytes: [UInt8]) {
    let parts = bytes.split(separator: 0, omittingEmptySubsequences: false)
    var metadata = UploadMetadata()
    var index = 0
    while index < parts.count {
        let key = String(decoding: parts[index], as: UTF8.self)
        let value = index + 1 < parts.count ? Data(parts[index + 1]) : Data()
        do {
            try metadata.setValue(value, forKey: key)
        } catch {
            guard !error.message.isEmpty else { fatalError("key refused without a reason: \(key.debugDescription)") }
        }
        index += 2
    }
    checkRoundTrip(metadata, input: "pairs \(bytes)")
}

private func checkRoundTrip(_ metadata: UploadMetadata, input: String) {
    let header = metadata.headerValue
    let again: UploadMetadata
    do {
        again = try UploadMetadata.parse(header)
    } catch {
        fatalError("\(input): its header \(header.debugDescription) does not parse again: \(error)")
    }
    guard again == metadata, again.keys == metadata.keys else {
        fatalError("\(input): \(header.debugDescription) parses to \(again.keys), not \(metadata.keys)")
    }
    for key in metadata.keys where again.data(forKey: key) != metadata.data(forKey: key) {
        fatalError("\(input): the value of \(key.debugDescription) changed")
    }
}
