/// One path component exactly as the kernel passed it: bytes, not necessarily valid UTF-8 (tar archives and
/// old disks carry Latin-1 names), so that every name round-trips unchanged to the backing tree.
public struct FileName: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringInterpolation {
    /// The bytes followed by a NUL, ready for system calls.
    private let storage: [CChar]

    /// Copies a NUL-terminated C string.
    public init(cString: UnsafePointer<CChar>) {
        var length = 0
        while cString[length] != 0 { length += 1 }
        storage = Array(UnsafeBufferPointer(start: cString, count: length + 1))
    }

    /// The UTF-8 bytes of `string`.
    public init(_ string: String) {
        storage = string.utf8.map { CChar(bitPattern: $0) } + [0]
    }

    public init(stringLiteral value: String) { self.init(value) }

    public init(stringInterpolation: DefaultStringInterpolation) {
        self.init(String(stringInterpolation: stringInterpolation))
    }

    /// A name made of arbitrary bytes (no NUL or `/` expected).
    public init(bytes: [UInt8]) {
        storage = bytes.map { CChar(bitPattern: $0) } + [0]
    }

    /// Length in bytes (what NAME_MAX limits).
    public var byteCount: Int { storage.count - 1 }

    /// The raw bytes, without the terminating NUL.
    public var bytes: [UInt8] { storage.dropLast().map { UInt8(bitPattern: $0) } }

    /// Calls `body` with a NUL-terminated pointer to the name.
    public func withCString<Result, Failure: Error>(_ body: (UnsafePointer<CChar>) throws(Failure) -> Result)
        throws(Failure) -> Result
    {
        try storage.withUnsafeBufferPointer { (buffer) throws(Failure) -> Result in try body(buffer.baseAddress!) }
    }

    /// True when the name ends with the UTF-8 bytes of `suffix`.
    public func hasSuffix(_ suffix: String) -> Bool {
        // Without copies: every failed lookup asks this (is it a sidecar's name?).
        var suffix = suffix
        return suffix.withUTF8 { tail in
            let start = byteCount - tail.count
            guard start >= 0 else { return false }
            return storage.withUnsafeBufferPointer { name in
                (0..<tail.count).allSatisfy { UInt8(bitPattern: name[start + $0]) == tail[$0] }
            }
        }
    }

    /// The name without its last `count` bytes.
    public func dropLast(_ count: Int) -> FileName { FileName(bytes: Array(bytes.dropLast(count))) }

    /// The name for people: invalid UTF-8 sequences are shown as U+FFFD.
    public var description: String { String(decoding: bytes, as: UTF8.self) }
}
