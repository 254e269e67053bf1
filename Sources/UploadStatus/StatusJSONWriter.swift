import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes `status.json` and the sidecars byte for byte as `JSONEncoder` with `[.sortedKeys, .prettyPrinted,
/// .withoutEscapingSlashes]` would, about fifty times faster.
///
/// The mount builds `status.json` whenever it is looked at (`stat` for its size, then `open`); with
/// `JSONEncoder` (and `Date.ISO8601Format()` per file) a mount that knew 6,000 files spent about 0.3 s of CPU
/// on every look, more than the uploads themselves.
public struct StatusJSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// `status.json` for `summary`.
    static func document(_ summary: UploadSummary) -> [UInt8] {
        var writer = StatusJSONWriter(capacity: 400 + summary.files.count * 420)
        writer.write(summary)
        return writer.bytes
    }

    /// One file's sidecar, with the name the file has on the service when one is given.
    static func sidecar(_ record: UploadRecord, remoteName: String? = nil) -> [UInt8] {
        var writer = StatusJSONWriter(capacity: 420)
        writer.write(record, indent: 0, remoteName: remoteName)
        return writer.bytes
    }

    // MARK: objects (keys in sorted order, as .sortedKeys gives)

    private mutating func write(_ summary: UploadSummary) {
        beginDocument(bytesPending: summary.counts.bytesPending)
        for (index, record) in summary.files.enumerated() { listFile(record, first: index == 0) }
        endDocument(
            filesTotal: summary.files.count, totals: summary.counts.files, service: summary.service,
            throughput: summary.throughput, reconciling: false)
    }

    // MARK: a document a piece at a time (`StreamedDocument`)

    /// The opening of `status.json`, up to the first entry of `files`.
    public mutating func beginDocument(bytesPending: Int64) {
        open("{")
        key("bytes_pending", indent: 1); integer(bytesPending); comma()
        key("files", indent: 1)
        open("[")
    }

    /// One entry of `files` (`first`: no comma before it).
    public mutating func listFile(_ record: UploadRecord, first: Bool) {
        if !first { comma() }
        pad(2)
        write(record, indent: 2)
    }

    /// The end of `status.json`, after the last entry of `files`.
    public mutating func endDocument(
        filesTotal: Int, totals: [UploadState: Int], service: ServiceStatus, throughput: Double, reconciling: Bool
    ) {
        newline()
        pad(1); bytes.append(UInt8(ascii: "]")); comma()
        key("files_total", indent: 1); integer(Int64(filesTotal)); comma()
        if reconciling { key("reconciling", indent: 1); bytes += Array("true".utf8); comma() }
        key("service", indent: 1); write(service, indent: 1); comma()
        key("throughput", indent: 1); double(throughput); comma()
        key("totals", indent: 1)
        var every = Dictionary(uniqueKeysWithValues: UploadState.allCases.map { ($0, 0) })
        every.merge(totals) { $1 }
        let states = every.keys.map(\.rawValue).sorted()
        open("{")
        for (index, state) in states.enumerated() {
            key(state, indent: 2)
            integer(Int64(every[UploadState(rawValue: state)!] ?? 0))
            if index < states.count - 1 { bytes.append(UInt8(ascii: ",")) }
            newline()
        }
        pad(1); bytes.append(UInt8(ascii: "}"))
        newline()
        bytes.append(UInt8(ascii: "}"))
    }

    /// Takes the bytes written so far, leaving the writer empty.
    public mutating func takeBytes() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    /// The service's reachability object; the caller has written its key.
    private mutating func write(_ service: ServiceStatus, indent: Int) {
        let inner = indent + 1
        open("{")
        if let error = service.error { key("error", indent: inner); string(error); comma() }
        key("reachable", indent: inner); bytes += Array((service.reachable ? "true" : "false").utf8)
        if let since = service.unreachable_since { comma(); key("unreachable_since", indent: inner); string(since) }
        newline()
        pad(indent); bytes.append(UInt8(ascii: "}"))
    }

    /// One file object; the caller has written the indentation of its opening brace.
    private mutating func write(_ record: UploadRecord, indent: Int, remoteName: String? = nil) {
        let inner = indent + 1
        open("{")
        key("attempts", indent: inner); integer(Int64(record.attempts)); comma()
        if let error = record.error { key("error", indent: inner); string(error); comma() }
        if let next = record.nextAttemptAt { key("next_attempt", indent: inner); string(Self.rfc3339(next)); comma() }
        key("path", indent: inner); string(record.path); comma()
        key("progress", indent: inner); string(record.progressText); comma()
        if let remoteId = record.remoteId { key("remote_id", indent: inner); string(remoteId); comma() }
        if let remoteName { key("remote_name", indent: inner); string(remoteName); comma() }
        key("size", indent: inner); integer(record.size); comma()
        key("state", indent: inner); string(record.state.rawValue); comma()
        key("updated", indent: inner); string(Self.rfc3339(record.updatedAt)); comma()
        key("uploaded", indent: inner); integer(record.uploadedBytes)
        if let url = record.url { comma(); key("url", indent: inner); string(url) }
        newline()
        pad(indent); bytes.append(UInt8(ascii: "}"))
    }

    /// A one-line object of strings with sorted keys: `{"a":"1","b":"2"}`.
    mutating func writeFlatObject(_ values: [String: String]) {
        bytes.append(UInt8(ascii: "{"))
        for (index, key) in values.keys.sorted().enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(key)
            bytes.append(UInt8(ascii: ":"))
            string(values[key]!)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    // MARK: pieces

    private mutating func open(_ bracket: Unicode.Scalar) {
        bytes.append(UInt8(ascii: bracket))
        newline()
    }

    private mutating func newline() { bytes.append(UInt8(ascii: "\n")) }

    private mutating func comma() {
        bytes.append(UInt8(ascii: ","))
        newline()
    }

    private mutating func pad(_ level: Int) {
        for _ in 0..<(level * 2) { bytes.append(UInt8(ascii: " ")) }
    }

    private mutating func key(_ name: String, indent: Int) {
        pad(indent)
        string(name)
        bytes += [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: " ")]
    }

    private mutating func integer(_ value: Int64) { bytes += Array(String(value).utf8) }

    /// As JSONEncoder: the shortest representation that round-trips, without a trailing `.0`.
    private mutating func double(_ value: Double) {
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes += Array(text.utf8)
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\n`, `\t`, … or `\u00XX`, `/` and
    /// non-ASCII as they are.
    private mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        defer { bytes.append(UInt8(ascii: "\"")) }
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: text.utf8)
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: bytes.append(byte)
            }
        }
    }

    /// `Date.ISO8601Format()`'s `2026-01-02T03:04:05Z` (UTC, whole seconds), from `gmtime_r`.
    static func rfc3339(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        var time = time_t(seconds)
        var parts = tm()
        guard seconds.magnitude < 1e11, gmtime_r(&time, &parts) != nil, (0...9999).contains(parts.tm_year + 1900) else {
            return date.ISO8601Format()
        }
        var out: [UInt8] = []
        out.reserveCapacity(20)
        func digits(_ value: Int32, _ count: Int) {
            var divisor: Int32 = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(parts.tm_year + 1900, 4); out.append(UInt8(ascii: "-"))
        digits(parts.tm_mon + 1, 2); out.append(UInt8(ascii: "-"))
        digits(parts.tm_mday, 2); out.append(UInt8(ascii: "T"))
        digits(parts.tm_hour, 2); out.append(UInt8(ascii: ":"))
        digits(parts.tm_min, 2); out.append(UInt8(ascii: ":"))
        digits(parts.tm_sec, 2); out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }
}
