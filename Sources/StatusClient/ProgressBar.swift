import Foundation

/// A one-line progress bar on stderr, redrawn at most 10 times a second; silent when stderr is not a terminal.
public final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int64
    private let enabled: Bool
    private let started = Date()
    private var finishedBytes: Int64 = 0
    private var current: Int64 = 0
    private var fileName = ""
    private var lastDraw = Date.distantPast

    /// A bar for `total` bytes in all; draws nothing unless `enabled`.
    public init(total: Int64, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    /// The next file, `size` bytes, begins.
    public func start(file name: String, size: Int64) {
        lock.withLock {
            fileName = name
            current = 0
        }
        update(0)
    }

    /// Bytes of the current file acknowledged by the server.
    public func update(_ acknowledged: Int64) {
        guard enabled else { return }
        lock.withLock {
            current = acknowledged
            let now = Date()
            guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = now
            draw(now: now)
        }
    }

    /// The current file is done.
    public func finish(file size: Int64) {
        lock.withLock {
            finishedBytes += size
            current = 0
        }
    }

    /// Erases the bar (before printing a line of output or an error).
    public func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    private func draw(now: Date) {
        let done = finishedBytes + current
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let elapsed = max(0.001, now.timeIntervalSince(started))
        let rate = Double(done) / elapsed
        let line = String(
            format: "\r\u{1B}[2K%@ %@/%@ %@/s %@", ProgressText.bar(fraction, width: 30), ProgressText.bytes(Double(done)),
            ProgressText.bytes(Double(total)), ProgressText.bytes(rate), String(fileName.prefix(40)))
        FileHandle.standardError.write(Data(line.utf8))
    }
}
