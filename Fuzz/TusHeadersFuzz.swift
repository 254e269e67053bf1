import Foundation
import TusCore

// libFuzzer target `tus-headers`: every tus header parser, fed the input bytes as the header's value.
//
// Production code under test (compiled as is by Scripts/fuzz.sh): TusCore's `UploadOffset`, `UploadLength`,
// `ByteCount` (also `Tus-Max-Size`), `UploadChecksum`, `ChecksumAlgorithm.parseList` (`Tus-Checksum-Algorithm`),
// `TusExtension.parseList` (`Tus-Extension`); TusClient's `TusServerCapabilities.parse` (the `OPTIONS` answer:
// `Tus-Version`, `Tus-Extension`, `Tus-Max-Size`, `Tus-Checksum-Algorithm`). The dates (`Upload-Expires`,
// `Retry-After`) have their own target, `http-dates`: ICU date parsing is 100 times slower than all of these. The
// server's own checks of `Tus-Resumable`, `Upload-Concat` and `Upload-Defer-Length` are plain string comparisons
// on Hummingbird requests and are not fuzzed here.
//
// Properties: nothing traps; a byte count is accepted exactly when it is a plain decimal number that fits in
// `Int64`, and then has that value; a parsed checksum, algorithm list or extension list re-encodes to a header that
// parses to the same value; capabilities hold no empty names and no negative size.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let value = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    checkByteCounts(value)
    checkUploadChecksum(value)
    checkLists(value)
    checkCapabilities(value)
    return 0
}

private func checkByteCounts(_ value: String) {
    let isPlainNumber = !value.isEmpty && value.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    let expected = isPlainNumber ? Int64(value) : nil
    let parsers: [(String, (String) throws(TusHeaderError) -> Int64)] = [
        (TusHeader.uploadOffset, { text throws(TusHeaderError) in try UploadOffset.parse(text) }),
        (TusHeader.uploadLength, { text throws(TusHeaderError) in try UploadLength.parse(text) }),
        (TusHeader.maxSize, { text throws(TusHeaderError) in try ByteCount.parse(text[...], header: TusHeader.maxSize) }),
    ]
    for (header, parse) in parsers {
        do {
            let n = try parse(value)
            guard n == expected else { fatalError("\(header): \(value.debugDescription) accepted as \(n)") }
        } catch {
            guard expected == nil else { fatalError("\(header): \(value.debugDescription) rejected: \(error)") }
            guard error.header == header, !error.message.isEmpty else { fatalError("\(header): wrong error \(error)") }
        }
    }
}

private func checkUploadChecksum(_ value: String) {
    let checksum: UploadChecksum
    do {
        checksum = try UploadChecksum.parse(value)
    } catch {
        guard !error.description.isEmpty else { fatalError("Upload-Checksum rejected without a reason") }
        return
    }
    guard !checksum.digest.isEmpty else { fatalError("Upload-Checksum: \(value.debugDescription) has an empty digest") }
    guard (try? UploadChecksum.parse(checksum.headerValue)) == checksum else {
        fatalError("Upload-Checksum: \(value.debugDescription) re-encodes to \(checksum.headerValue.debugDescription)")
    }
}

private func checkLists(_ value: String) {
    let algorithms = ChecksumAlgorithm.parseList(value)
    let algorithmHeader = algorithms.map(\.rawValue).joined(separator: ",")
    guard ChecksumAlgorithm.parseList(algorithmHeader) == algorithms else {
        fatalError("Tus-Checksum-Algorithm: \(value.debugDescription) re-encodes to \(algorithmHeader)")
    }
    let extensions = TusExtension.parseList(value)
    let extensionHeader = TusExtension.headerValue(Array(extensions))
    guard TusExtension.parseList(extensionHeader) == extensions else {
        fatalError("Tus-Extension: \(value.debugDescription) re-encodes to \(extensionHeader)")
    }
}

private func checkCapabilities(_ value: String) {
    let capabilities = TusServerCapabilities.parse { _ in value }
    let names = capabilities.versions + Array(capabilities.extensions) + capabilities.checksumAlgorithms
    guard !capabilities.versions.isEmpty, !names.contains(where: \.isEmpty) else {
        fatalError("OPTIONS: \(value.debugDescription) gives an empty version or name: \(capabilities)")
    }
    if let maxSize = capabilities.maxSize, maxSize < 0 {
        fatalError("Tus-Max-Size: \(value.debugDescription) read as \(maxSize)")
    }
}
