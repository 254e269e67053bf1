import ArgumentParser
import Foundation
import UploadEngine
#if canImport(Glibc)
import Glibc
#endif

/// `tusfs status [PATH…]`: the upload state of the files under the named paths, read from the mount's
/// `.tusfs/status.json`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the upload state of files in a tusfs mount.",
        discussion: """
            One row per file under the named paths (default: the current directory), sorted by path, then the \
            totals. --json prints the mount's status.json cut down to those files (totals recomputed; the \
            throughput is the mount's). --watch redraws every second until interrupted; with --json it prints \
            one compact JSON document per line instead.
            """)

    @Argument(help: "Files or directories in a tusfs mount (default: the current directory).")
    var paths: [String] = []

    @Flag(help: "Print JSON (the schema of MOUNT/.tusfs/status.json).")
    var json = false

    @Flag(help: "Refresh every second until interrupted.")
    var watch = false

    func run() throws {
        let selection = try StatusSelection(paths: paths)
        if json && selection.roots.count > 1 {
            throw CommandError("--json takes paths in one mount only; these are in \(selection.roots.joined(separator: " and "))")
        }
        guard watch else {
            try write(render(selection, compact: false))
            return
        }
        // Interrupting a watch is the normal way to end it.
        signal(SIGINT) { _ in _exit(0) }
        let terminal = isatty(STDOUT_FILENO) == 1 && !json
        var first = true
        while true {
            let text = try render(selection, compact: true)
            // On a terminal, redraw in place; otherwise one table after the other, a blank line between.
            try write(terminal ? "\u{1B}[H\u{1B}[2J" + text : (first || json ? "" : "\n") + text)
            first = false
            usleep(1_000_000)
        }
    }

    private func render(_ selection: StatusSelection, compact: Bool) throws -> String {
        let snapshots = try selection.snapshots()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = compact ? [.sortedKeys, .withoutEscapingSlashes]
                : [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(snapshots[0].filteredReport), as: UTF8.self) + "\n"
        }
        return StatusTable(snapshots: snapshots, currentDirectory: FileManager.default.currentDirectoryPath, now: Date()).text
    }

    private func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                // The reader went away (`tusfs status --watch | head`): nothing left to do.
                if errno == EPIPE { throw ExitCode.success }
                throw CommandError("cannot write the status: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }
}
