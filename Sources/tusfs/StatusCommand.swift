import ArgumentParser
import Foundation
import StatusClient
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
            try write(StatusOutput.render(selection, json: json, compact: false))
            return
        }
        // Interrupting a watch is the normal way to end it.
        signal(SIGINT) { _ in _exit(0) }
        let terminal = isatty(STDOUT_FILENO) == 1 && !json
        var first = true
        while true {
            let text = try StatusOutput.render(selection, json: json, compact: true)
            // On a terminal, redraw in place; otherwise one table after the other, a blank line between.
            try write(terminal ? "\u{1B}[H\u{1B}[2J" + text : (first || json ? "" : "\n") + text)
            first = false
            usleep(1_000_000)
        }
    }

    /// The reader going away (`tusfs status --watch | head`) ends the command normally.
    private func write(_ text: String) throws {
        guard try CommandOutput.write(text) else { throw ExitCode.success }
    }
}
