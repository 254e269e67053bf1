import Synchronization
import UploadEngine

/// Keeps every file event posted to it, in order: stands in for the upload engine.
final class RecordingEventSink: FileEventSink {
    private let posted = Mutex<[FileEvent]>([])

    func post(_ event: FileEvent) {
        posted.withLock { $0.append(event) }
    }

    var events: [FileEvent] { posted.withLock { $0 } }
}
