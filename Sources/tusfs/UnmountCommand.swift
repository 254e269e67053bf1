import ArgumentParser
import Foundation
import MountDaemon
import StatusClient
#if canImport(Glibc)
import Glibc
#endif

/// `tusfs unmount MOUNTPOINT`: unmounts and waits for the daemon to finish; with `--wait`, first waits
/// until nothing is left to upload.
struct UnmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmount", abstract: "Unmount a tusfs directory and wait for its daemon to exit.",
        discussion: """
            With --wait, first waits until no file is pending, uploading, finalizing or failed with a retry \
            scheduled (files the service is still processing, and files failed for good, do not hold it back; \
            the latter are listed on stderr). If --wait-timeout passes first, nothing is unmounted and the \
            exit status is 2.
            """)

    @Argument(help: "The mounted directory.")
    var mountpoint: String

    @Option(help: "Seconds to wait for the daemon to exit.")
    var timeout: Double = 60

    @Flag(help: "Wait until every upload has been sent before unmounting.")
    var wait = false

    @Option(help: ArgumentHelp("With --wait: give up after this many seconds, leaving the mount (default: wait for ever).", valueName: "seconds"))
    var waitTimeout: Double?

    func validate() throws {
        if waitTimeout != nil && !wait { throw ValidationError("--wait-timeout needs --wait") }
        if let waitTimeout, !(waitTimeout >= 0) { throw ValidationError("--wait-timeout must be a number of seconds, 0 or more") }
    }

    func run() throws {
        let mount = try RunningMount(at: MountpointCheck.resolve(mountpoint))
        if wait { try waitForUploads(mount.mountpoint) }
        try mount.unmount()
        try mount.waitForDaemonExit(timeout: timeout)
    }

    /// `tusfs wait`'s loop over the whole mount, with the goal "nothing left to send".
    private func waitForUploads(_ path: String) throws {
        guard access(MountStatus.documentPath(root: path), R_OK) == 0 else {
            throw CommandError("cannot wait for uploads: \(path) serves no .tusfs/status.json")
        }
        let root = StatusTarget(argument: path, root: path, relative: "", kind: .directory)
        let outcome = try UploadWait(
            selection: StatusSelection(targets: [root]), goal: .uploaded, timeout: waitTimeout, interval: 0.05,
            showsProgress: isatty(STDERR_FILENO) == 1
        ).run()
        if outcome.timedOut {
            CommandFailure.report(outcome.timeoutMessage(after: waitTimeout ?? 0, settledWord: "uploaded") + "; not unmounted")
            throw ExitCode(WaitCommand.timedOutExitCode)
        }
        for failure in outcome.failed { CommandFailure.report("\(failure.path): failed: \(failure.error)") }
    }
}
