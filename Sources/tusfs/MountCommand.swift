import ArgumentParser

/// `tusfs mount MOUNTPOINT`: mounts the mirror filesystem.
struct MountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mount", abstract: "Mount a tusfs directory.")
    @Argument(help: "The directory to mount on.") var mountpoint: String
    func run() throws { throw ValidationError("mount is being built") }
}

/// `tusfs unmount MOUNTPOINT`.
struct UnmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unmount", abstract: "Unmount a tusfs directory.")
    @Argument(help: "The mounted directory.") var mountpoint: String
    func run() throws { throw ValidationError("unmount is being built") }
}
