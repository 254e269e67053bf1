import ArgumentParser
import Foundation
import MountDaemon
#if canImport(Glibc)
import Glibc
#endif

/// The `tusfs` command line: one subcommand per file in this folder.
@main
struct TusfsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tusfs",
        abstract: "A FUSE mount whose files are uploaded in the background with tus.",
        version: TusfsVersion.current,
        subcommands: [
            MountCommand.self,
            UnmountCommand.self,
            StatusCommand.self,
            WaitCommand.self,
            ServeCommand.self,
            UploadCommand.self,
            ImportCommand.self,
            CacheCommand.self,
        ]
    )

    /// Starts with no signal blocked: a parent may hand down a blocked SIGTERM (a child spawned from a
    /// Swift concurrency or Dispatch thread inherits that thread's mask), and then neither the mount nor
    /// the server could be stopped the normal way.
    static func main() async {
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        if FstabMount.isHelper(CommandLine.arguments[0]) {
            do {
                let arguments = try FstabMount.arguments(Array(CommandLine.arguments.dropFirst()))
                if arguments.isEmpty { return }  // mount -f: pretend
                await main(arguments)
                return
            } catch {
                FileHandle.standardError.write(Data("mount.fuse.tusfs: \(error)\n".utf8))
                Glibc.exit(1)
            }
        }
        await main(nil)
    }
}
