import MediaManagerAPI
import MediaManagerClient

/// Get File Descriptor calls for processing polls that come within a few milliseconds of each other, sent as
/// one Get File Descriptors call (`POST /files/get-files`, up to 100 ids).
///
/// A mount that uploads many small files polls each of them once or twice while the service processes it;
/// one request per poll made the polls a third of all requests. Batched, 2,000 files cost a few dozen.
/// When the batch is refused because one of its files is gone (404), each file is asked for alone, so that
/// file alone gets the error. A cancelled caller still waits for its batch (one request at most).
actor DescriptorBatcher {
    private let client: MediaManagerClient
    private let window: Duration
    private var waiting: [String: [CheckedContinuation<MediaManagerAPI.FileDescriptor, any Error>]] = [:]
    private var order: [String] = []
    private var flushScheduled = false
    static let maxBatch = 100

    init(client: MediaManagerClient, window: Duration = .milliseconds(20)) {
        self.client = client
        self.window = window
    }

    /// The descriptor of file `id`, fetched with the other ids asked for within `window`.
    func descriptor(of id: String) async throws -> MediaManagerAPI.FileDescriptor {
        try await withCheckedThrowingContinuation { continuation in
            if waiting[id] == nil { order.append(id) }
            waiting[id, default: []].append(continuation)
            if order.count >= Self.maxBatch {
                flush()
            } else if !flushScheduled {
                flushScheduled = true
                let window = self.window
                Task {
                    try? await Task.sleep(for: window)
                    self.flushScheduledBatch()
                }
            }
        }
    }

    private func flushScheduledBatch() {
        flushScheduled = false
        flush()
    }

    /// Sends what is waiting, `maxBatch` ids per request.
    private func flush() {
        while !order.isEmpty {
            let ids = Array(order.prefix(Self.maxBatch))
            order.removeFirst(ids.count)
            var batch: [String: [CheckedContinuation<MediaManagerAPI.FileDescriptor, any Error>]] = [:]
            for id in ids { batch[id] = waiting.removeValue(forKey: id) }
            let client = self.client
            Task { await Self.fetch(ids, for: batch, client: client) }
        }
    }

    private static func fetch(
        _ ids: [String], for batch: [String: [CheckedContinuation<MediaManagerAPI.FileDescriptor, any Error>]],
        client: MediaManagerClient
    ) async {
        var results: [String: Result<MediaManagerAPI.FileDescriptor, any Error>] = [:]
        do {
            let files = ids.count == 1 ? [try await client.file(id: ids[0])] : try await client.files(ids: ids)
            for file in files { results[file.id] = .success(file) }
        } catch let error as MediaManagerError where error.status == 404 && ids.count > 1 {
            // Some file of the batch is gone: ask for each alone below.
        } catch {
            for id in ids { results[id] = .failure(error) }
        }
        for id in ids where results[id] == nil {
            do { results[id] = .success(try await client.file(id: id)) } catch { results[id] = .failure(error) }
        }
        for (id, continuations) in batch {
            for continuation in continuations { continuation.resume(with: results[id]!) }
        }
    }
}
