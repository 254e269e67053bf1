import FUSEAdapter
import Synchronization

/// The files that exist only in the mount, never on disk: sidecars and the control directory. They are
/// readable by name but never listed, so `cp -r`, `rsync --delete` and `find` never see them.
final class VirtualNodes: Sendable {
    enum Kind: Hashable, Sendable {
        /// `.tusfs/` at the root.
        case controlDirectory
        /// `.tusfs/status.json`.
        case statusDocument
        /// `NAME.tusfs.json` beside the regular file NAME in directory `parent`.
        case sidecar(parent: InodeNumber, file: FileName)
    }

    /// Virtual inode and handle numbers start here, far above our real inode counter and any descriptor.
    static let firstNumber: UInt64 = 1 << 62

    static func isVirtual(_ number: UInt64) -> Bool { number >= firstNumber }

    private struct State {
        var kinds: [InodeNumber: (kind: Kind, lookups: UInt64)] = [:]
        var numbers: [Kind: InodeNumber] = [:]
        var contents: [UInt64: [UInt8]] = [:]
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
        state.withLock { state in
            let handle = state.next
            state.next += 1
            state.contents[handle] = contents
            return handle
        }
    }

    func contents(of handle: UInt64) -> [UInt8]? { state.withLock { $0.contents[handle] } }

    func release(_ handle: UInt64) { _ = state.withLock { $0.contents.removeValue(forKey: handle) } }
}
