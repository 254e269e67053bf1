/// Totals for `status.json`: files per state and bytes still to send.
public struct UploadCounts: Sendable, Hashable, Codable {
    /// Files per state; every state is present, zero when no file is in it.
    public var files: [UploadState: Int]
    /// Bytes not yet acknowledged by the service (``UploadState/bytesPending(size:uploaded:)``).
    public var bytesPending: Int64

    public init(files: [UploadState: Int] = [:], bytesPending: Int64 = 0) {
        var all = Dictionary(uniqueKeysWithValues: UploadState.allCases.map { ($0, 0) })
        all.merge(files) { $1 }
        self.files = all
        self.bytesPending = bytesPending
    }

    /// The totals of `records`: the one counting loop behind `status.json` and the engine's counts.
    public init(counting records: some Sequence<UploadRecord>) {
        var files: [UploadState: Int] = [:]
        var pending: Int64 = 0
        for record in records {
            files[record.state, default: 0] += 1
            pending += record.state.bytesPending(size: record.size, uploaded: record.uploadedBytes)
        }
        self.init(files: files, bytesPending: pending)
    }
}

/// What `status.json` shows: totals and the per-file list.
public struct UploadSummary: Sendable, Hashable {
    /// Files per state and bytes still to upload.
    public var counts: UploadCounts
    /// Every file, ordered by path.
    public var files: [UploadRecord]
    /// Bytes per second acknowledged by the server over the last few seconds.
    public var throughput: Double
    /// Whether the service answers.
    public var service: ServiceStatus

    public init(counts: UploadCounts, files: [UploadRecord], throughput: Double = 0, service: ServiceStatus = .reachable) {
        self.counts = counts
        self.files = files
        self.throughput = throughput
        self.service = service
    }

    /// The summary of `records`, counted and ordered by path; during an outage the files waiting for the
    /// service show it as their error (``UploadRecord/showing(_:)``).
    public init(records: some Sequence<UploadRecord>, throughput: Double, service: ServiceStatus = .reachable) {
        var files = records.sorted { $0.path < $1.path }
        if !service.reachable { files = files.map { $0.showing(service) } }
        self.init(counts: UploadCounts(counting: files), files: files, throughput: throughput, service: service)
    }
}
