import ArgumentParser
import Foundation
import StatusClient
#if canImport(Glibc)
import Glibc
#endif

/// `tusfs wait [PATH…]`: waits until the files under the named paths are uploaded; the exit status tells the
/// outcome (0 all ready, 1 some failed, 2 timed out, 3 cannot wait).
struct WaitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until files in a tusfs mount are uploaded.",
        discussion: """
            Waits until every file under the named paths (default: the current directory) is ready or has \
            failed with no retry scheduled, reading the mount's .tusfs/status.json. Files failed with a retry \
            scheduled are still in progress. A regular file with no upload record yet (right after it was \
            written) counts as not done. Exit status: 0 every file is ready (or there is none); 1 some file \
            failed for good (one line per file on stderr); 2 the timeout passed first; 3 cannot wait (a path \
            is missing, not in a tusfs mount, or its status cannot be read). On a terminal, stderr shows a \
            progress line.
            """)

    static let failedExitCode: Int32 = 1
    static let timedOutExitCode: Int32 = 2
    static let cannotWaitExitCode: Int32 = 3

    @Argument(help: "Files or directories in a tusfs mount (default: the current directory).")
    var paths: [String] = []

    @Option(help: ArgumentHelp("Give up after this many seconds (default: wait for ever).", valueName: "seconds"))
    var timeout: Double?

    @Option(help: ArgumentHelp("Seconds between two checks of the named paths' totals (default 0.05).", valueName: "seconds"))
    var interval: Double = 0.05

    func validate() throws {
        if let timeout, !(timeout >= 0) { throw ValidationError("--timeout must be a number of seconds, 0 or more") }
        guard interval > 0 && interval.isFinite else { throw ValidationError("--interval must be a positive number of seconds") }
    }

    func run() throws {
        let outcome: UploadWait.Outcome
        do {
            let selection = try StatusSelection(paths: paths)
            outcome = try UploadWait(
                selection: selection, goal: .ready, timeout: timeout, interval: interval,
                showsProgress: isatty(STDERR_FILENO) == 1
            ).run()
        } catch let error as CommandError {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            throw ExitCode(Self.cannotWaitExitCode)
        }
        if outcome.timedOut {
            CommandFailure.report(outcome.timeoutMessage(after: timeout ?? 0, settledWord: "ready"))
            throw ExitCode(Self.timedOutExitCode)
        }
        for failure in outcome.failed { CommandFailure.report("\(failure.path): failed: \(failure.error)") }
        if !outcome.failed.isEmpty { throw ExitCode(Self.failedExitCode) }
    }
}
