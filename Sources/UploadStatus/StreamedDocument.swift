import Synchronization

/// A status document (`status.json`, a directory's listing) produced a piece at a time while it is read, so
/// that a listing of a million files never sits whole in the daemon's memory.
public final class StreamedDocument: Sendable {
    private let produce: @Sendable () -> [UInt8]?

    /// A document whose next piece `produce` returns each time it is called; nil at the end.
    public init(_ produce: @escaping @Sendable () -> [UInt8]?) {
        self.produce = produce
    }

    /// A document already whole.
    public static func whole(_ bytes: [UInt8]) -> StreamedDocument {
        let given = Mutex(false)
        return StreamedDocument {
            given.withLock { given in
                defer { given = true }
                return given ? nil : bytes
            }
        }
    }

    /// The next piece; nil once the document has ended.
    public func next() -> [UInt8]? { produce() }

    /// Every remaining piece, joined.
    public func readAll() -> [UInt8] {
        var bytes: [UInt8] = []
        while let piece = next() { bytes += piece }
        return bytes
    }
}
