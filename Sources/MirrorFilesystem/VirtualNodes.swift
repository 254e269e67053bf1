import FUSEAdapter
import Synchronization
import UploadStatus

/// The files that exist only in the mount, never on disk: sidecars and the control directory. They are
/// readable by name but never listed, so `cp -r`, `rsync --delete` and `find` never see them.
final class VirtualNodes: Sendable {
    enum Kind: Hashable, Sendable {
        /// `.tusfs/` at the root.
        case controlDirectory
        /// `.tusfs/status.json`.
        case statusDocument
        /// `NAME.tusfs.json` beside the regular file or directory NAME in directory `parent`.
        case sidecar(parent: InodeNumber, file: FileName)
    }

    /// Virtual inode and handle numbers start here, far above our real inode counter and any descriptor.
    static let firstNumber: UInt64 = 1 << 62

    static func isVirtual(_ number: UInt64) -> Bool { number >= firstNumber }

    private struct State {
        var kinds: [InodeNumber: (kind: Kind, lookups: UInt64)] = [:]
        var numbers: [Kind: InodeNumber] = [:]
        var readers: [UInt64: VirtualReader] = [:]
        var next: UInt64 = VirtualNodes.firstNumber
    }

    private let state = Mutex(State())

    /// Counts a lookup of `kind` and returns its inode number.
    func lookup(_ kind: Kind) -> InodeNumber {
        state.withLock { state in
            if let number = state.numbers[kind] {
                state.kinds[number]!.lookups += 1
                return number
            }
            let number = state.next
            state.next += 1
            state.kinds[number] = (kind, 1)
            state.numbers[kind] = number
            return number
        }
    }

    func kind(of number: InodeNumber) -> Kind? { state.withLock { $0.kinds[number]?.kind } }

    func forget(_ number: InodeNumber, count: UInt64) {
        state.withLock { state in
            guard let (kind, lookups) = state.kinds[number] else { return }
            if lookups > count {
                state.kinds[number]!.lookups = lookups - count
            } else {
                state.kinds[number] = nil
                state.numbers[kind] = nil
            }
        }
    }

    /// Keeps a snapshot of a virtual file's contents for one open handle.
    func open(contents: [UInt8]) -> UInt64 {
        open(document: { .whole(contents) })
    }

    /// Keeps a document produced as it is read for one open handle; `make` starts it over (a reader that goes
    /// back before what it was last given).
    func open(document make: @escaping @Sendable () -> StreamedDocument) -> UInt64 {
        let reader = VirtualReader(make)
        return state.withLock { state in
            let handle = state.next
            state.next += 1
            state.readers[handle] = reader
            return handle
        }
    }

    func reader(of handle: UInt64) -> VirtualReader? { state.withLock { $0.readers[handle] } }

    func release(_ handle: UInt64) { _ = state.withLock { $0.readers.removeValue(forKey: handle) } }
}

/// One open virtual file: its document and the bytes of it from the last read on (a reader reads from start
/// to end; one going back starts the document over).
final class VirtualReader: Sendable {
    private struct Window {
        var document: StreamedDocument
        var bytes: [UInt8] = []
        /// The offset of `bytes.first` in the document.
        var start = 0
        var ended = false
    }

    private let make: @Sendable () -> StreamedDocument
    private let window: Mutex<Window>

    init(_ make: @escaping @Sendable () -> StreamedDocument) {
        self.make = make
        window = Mutex(Window(document: make()))
    }

    /// Up to `size` bytes from `offset`; fewer only at the document's end.
    func read(offset: Int, size: Int) -> [UInt8] {
        window.withLock { window in
            if offset < window.start { window = Window(document: make()) }
            while !window.ended, window.start + window.bytes.count < offset + size {
                guard let piece = window.document.next() else {
                    window.ended = true
                    break
                }
                window.bytes += piece
                let behind = min(offset - window.start, window.bytes.count)
                if behind > 64 * 1024 {
                    window.bytes.removeFirst(behind)
                    window.start += behind
                }
            }
            let behind = min(offset - window.start, window.bytes.count)
            window.bytes.removeFirst(behind)
            window.start += behind
            guard offset == window.start else { return [] }
            return Array(window.bytes.prefix(size))
        }
    }
}
