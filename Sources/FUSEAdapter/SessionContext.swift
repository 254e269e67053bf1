/// What the callbacks find behind `fuse_req_userdata`: the filesystem and the connection settings.
final class SessionContext: Sendable {
    let filesystem: any Filesystem
    let settings: ConnectionSettings
    let passthrough: Passthrough
    /// Request durations, when the mount reports metrics.
    let operationTimers: OperationTimers?

    init(filesystem: any Filesystem, settings: ConnectionSettings) {
        self.filesystem = filesystem
        self.settings = settings
        passthrough = Passthrough(enabled: settings.passthrough)
        operationTimers = settings.recordsOperationTimes ? OperationTimers(operations: OperationTimers.operations) : nil
    }
}
