import ArgumentParser

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
            ServeCommand.self,
            UploadCommand.self,
            ImportCommand.self,
        ]
    )
}

/// The version printed by `tusfs --version`.
enum TusfsVersion {
    static let current = "0.1.0"
}
