/// Where the mirror's file events go: the upload engine, or a recorder in tests of what posts them.
public protocol FileEventSink: Sendable {
    /// Takes `event` without waiting; events are applied in the order posted.
    func post(_ event: FileEvent)
}

extension UploadEngine: FileEventSink {}
