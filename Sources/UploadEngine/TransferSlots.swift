import Timekeeping

/// The engine's bookkeeping of requests, as a value type: the files waiting for a transfer slot (oldest
/// first), how many slots are taken, and the request running for each file.
///
/// Small files and large ones wait in two lines: a large file holds one of ``capacity`` slots (`--transfers`)
/// while its bytes move, a small file's upload is a request or two and runs within the limit the engine
/// passes to ``nextWaiting(smallLimit:)`` (its ``RequestWindow``). So small files never wait behind a
/// large one, and large files never wait behind thousands of small ones.
///
/// Every request gets a token. Results come back with their token, and `path(of:)` says which file the
/// request belongs to now: a rename can hand a running request to the new path, and a result whose token is
/// no longer the file's current request belongs to a request that was cancelled or replaced.
/// `Handle` is what cancels a request (a `Task` in the engine).
struct TransferSlots<Handle> {
    /// A running upload, finalize or status request.
    struct Request {
        var token: UInt64
        var handle: Handle
        /// The offset the server acknowledged so far.
        var progress: Int64 = 0
        /// False until the first progress report, which may be the server's offset of a resumed upload.
        var started = false
    }

    /// Uploads of large files that may move bytes at the same time.
    let capacity: Int
    /// Uploads of large files moving bytes now.
    private(set) var running = 0
    /// Uploads of small files running now.
    private(set) var runningSmall = 0
    private var waiting: [String] = []
    private var waitingSmall: [String] = []
    private var waitingSet: Set<String> = []
    private var requests: [String: Request] = [:]
    private var requestPaths: [UInt64: String] = [:]
    private var lastToken: UInt64 = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// A token no request or timer had before.
    mutating func takeToken() -> UInt64 {
        lastToken += 1
        return lastToken
    }

    // MARK: waiting for a slot

    /// Puts the file at the end of its line (with `first`, at its head), unless it is waiting already.
    mutating func enqueue(_ path: String, first: Bool = false, small: Bool = false) {
        guard waitingSet.insert(path).inserted else { return }
        if small {
            if first { waitingSmall.insert(path, at: 0) } else { waitingSmall.append(path) }
        } else {
            if first { waiting.insert(path, at: 0) } else { waiting.append(path) }
        }
    }

    /// Takes the file out of the line (renamed or removed while waiting).
    mutating func leaveQueue(_ path: String) {
        guard waitingSet.remove(path) != nil else { return }
        waiting.removeAll { $0 == path }
        waitingSmall.removeAll { $0 == path }
    }

    /// Files waiting for a slot, small and large.
    var waitingCount: Int { waitingSet.count }

    /// Whether a small file waits for the limit of small-file requests.
    var smallFilesWait: Bool { !waitingSmall.isEmpty }

    /// The next file to get a slot: a small file while fewer than `smallLimit` small uploads run, else a large
    /// file while a slot of ``capacity`` is free. The caller starts its transfer (`transferStarted(small:)`)
    /// or drops it.
    mutating func nextWaiting(smallLimit: Int = .max) -> String? {
        let path: String
        if runningSmall < smallLimit, !waitingSmall.isEmpty {
            path = waitingSmall.removeFirst()
        } else if running < capacity, !waiting.isEmpty {
            path = waiting.removeFirst()
        } else {
            return nil
        }
        waitingSet.remove(path)
        return path
    }

    /// A transfer took a slot.
    mutating func transferStarted(small: Bool = false) {
        if small { runningSmall += 1 } else { running += 1 }
    }

    /// A transfer gave its slot back.
    mutating func transferEnded(small: Bool = false) {
        if small { runningSmall -= 1 } else { running -= 1 }
    }

    // MARK: running requests

    /// The request running for the file at `path`.
    func request(at path: String) -> Request? { requests[path] }

    /// Every running request, by path.
    var allRequests: [String: Request] { requests }

    /// The path the request with `token` belongs to now, or `path` when the request is no longer tracked.
    func path(of token: UInt64, or path: String) -> String { requestPaths[token] ?? path }

    /// Whether `token` is the request running for `path`.
    func isCurrent(_ token: UInt64, at path: String) -> Bool { requests[path]?.token == token }

    /// Records `request` as the one running for `path` (replacing the record of an earlier one).
    mutating func setRequest(_ request: Request, at path: String) {
        if let previous = requests[path], previous.token != request.token { requestPaths[previous.token] = nil }
        requests[path] = request
        requestPaths[request.token] = path
    }

    /// Forgets the request running for `path` and returns it (to cancel it, or because it ended).
    mutating func removeRequest(at path: String) -> Request? {
        guard let request = requests.removeValue(forKey: path) else { return nil }
        requestPaths[request.token] = nil
        return request
    }

    /// Hands the request running for `from` to `to` (a rename its upload survives). Returns the request
    /// that was running for `to`, which the caller cancels.
    mutating func moveRequest(from: String, to: String) -> Request? {
        guard let request = removeRequest(at: from) else { return nil }
        let displaced = removeRequest(at: to)
        setRequest(request, at: to)
        return displaced
    }

    /// Records the server's acknowledged offset for the request `token` of `path`. Returns the bytes newly
    /// acknowledged (0 for the first report, which may be a resumed upload's offset), or nil when the report
    /// is stale (another request, or an offset lower than one already seen).
    mutating func recordProgress(_ bytes: Int64, token: UInt64, at path: String) -> Int64? {
        guard var request = requests[path], request.token == token, bytes >= request.progress else { return nil }
        let acknowledged = request.started ? bytes - request.progress : 0
        request.started = true
        request.progress = bytes
        requests[path] = request
        return acknowledged
    }

    /// Forgets the waiting files and the running requests (shutdown) and returns the handles of those
    /// requests. The slots stay taken until each cancelled transfer reports its end.
    mutating func removeAll() -> [Handle] {
        let handles = requests.values.map(\.handle)
        waiting = []
        waitingSmall = []
        waitingSet = []
        requests = [:]
        requestPaths = [:]
        return handles
    }
}
