/// The engine's per-file timers (write-back delay, retry, processing poll) as one queue ordered by due time,
/// so that thousands of files waiting for their write-back delay cost one sleeping task, not one each.
///
/// A file has at most one timer: setting a new one replaces it. Replaced and cancelled timers stay in the
/// heap until they come due and are then skipped (their token no longer matches).
struct FileTimers<Action> {
    private struct Entry {
        var due: ContinuousClock.Instant
        var token: UInt64
        var path: String
    }

    private var current: [String: (token: UInt64, action: Action)] = [:]
    private var heap: [Entry] = []

    /// Number of files with a timer set.
    var count: Int { current.count }

    /// When the earliest timer still set is due (nil when none is).
    mutating func earliestDue() -> ContinuousClock.Instant? {
        while let first = heap.first, current[first.path]?.token != first.token { popFirst() }
        return heap.first?.due
    }

    /// Sets the timer of `path`, replacing the one it had.
    mutating func set(_ path: String, due: ContinuousClock.Instant, token: UInt64, action: Action) {
        current[path] = (token, action)
        heap.append(Entry(due: due, token: token, path: path))
        siftUp(heap.count - 1)
    }

    /// Whether `path` has a timer set.
    func isSet(_ path: String) -> Bool { current[path] != nil }

    /// Cancels the timer of `path`, if it has one.
    mutating func cancel(_ path: String) {
        current[path] = nil
    }

    /// Cancels every timer.
    mutating func removeAll() {
        current = [:]
        heap = []
    }

    /// Removes and returns the earliest timer due at `now`, if any. (One at a time: firing a timer may cancel
    /// or replace others that are due too.)
    mutating func popDue(at now: ContinuousClock.Instant) -> (path: String, action: Action)? {
        while let first = heap.first, first.due <= now {
            popFirst()
            guard let timer = current[first.path], timer.token == first.token else { continue }
            current[first.path] = nil
            return (first.path, timer.action)
        }
        return nil
    }

    // MARK: binary heap on `due`

    private mutating func popFirst() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].due < heap[parent].due else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].due < heap[smallest].due { smallest = left }
            if right < heap.count, heap[right].due < heap[smallest].due { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
