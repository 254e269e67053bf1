import Foundation

extension UploadRecord {
    /// The read-only status xattrs of the file, in the order `getfattr -d` lists them
    /// (`user.tusfs.state`, `.progress`, `.remote_id`, `.url`, `.error`, `.attempts`, `.updated`).
    /// Attributes without a value (no remote id yet, no error) are left out.
    public var statusAttributes: [(name: String, value: String)] {
        var attributes: [(String, String)] = [("user.tusfs.state", state.rawValue), ("user.tusfs.progress", progressText)]
        if let remoteId { attributes.append(("user.tusfs.remote_id", remoteId)) }
        if let url { attributes.append(("user.tusfs.url", url)) }
        if let error { attributes.append(("user.tusfs.error", error)) }
        attributes.append(("user.tusfs.attempts", String(attempts)))
        attributes.append(("user.tusfs.updated", updatedAtRFC3339))
        return attributes
    }

    /// The `NAME.tusfs.json` sidecar: the same fields as the xattrs, plus path, size and bytes uploaded, and
    /// `remote_name` (the name on the service) when given.
    public func sidecarJSON(remoteName: String? = nil) throws -> Data {
        Data(StatusJSONWriter.sidecar(self, remoteName: remoteName))
    }
}

extension UploadSummary {
    /// `MOUNT/.tusfs/status.json`: totals per state, bytes pending, and the per-file list.
    public func statusJSON() throws -> Data {
        Data(statusJSONBytes())
    }

    /// `statusJSON()` as bytes, without the copy into `Data`.
    public func statusJSONBytes() -> [UInt8] {
        StatusJSONWriter.document(self)
    }
}

/// The JSON shape of `status.json` and of the sidecars (snake_case, RFC 3339 times). `tusfs status` and
/// `tusfs wait` decode it from the mount. `StatusJSONWriter` writes it (what `JSONEncoder` with sorted keys
/// and pretty printing would write, faster).
public struct UploadStatusReport: Codable, Sendable {
    /// One file: a sidecar, or an entry of `files`.
    public struct File: Codable, Sendable {
        public var path: String
        public var state: UploadState
        public var size: Int64
        public var uploaded: Int64
        public var progress: String
        public var remote_id: String?
        /// The file's name on the service (sidecars only): the real name is `path`'s last component.
        public var remote_name: String?
        public var url: String?
        public var error: String?
        public var attempts: Int
        public var updated: String
        /// When the next automatic retry is due; nil when none is scheduled (a failed file then stays failed
        /// until `setfattr -n user.tusfs.retry`).
        public var next_attempt: String?
        /// Whether the file's data is in the mount's cache (`user.tusfs.cached`: `yes`, `no` once evicted,
        /// `fetching RECEIVED/SIZE` while read back). `tusfs status` reads it for files READY on the service
        /// (only those are ever evicted); absent from the mount's own documents.
        public var cached: String?

        public init(_ record: UploadRecord) {
            path = record.path
            state = record.state
            size = record.size
            uploaded = record.uploadedBytes
            progress = record.progressText
            remote_id = record.remoteId
            url = record.url
            error = record.error
            attempts = record.attempts
            updated = record.updatedAtRFC3339
            next_attempt = record.nextAttemptAt?.ISO8601Format()
        }
    }

    /// Files per state.
    public var totals: [UploadState: Int]
    public var files_total: Int
    /// Bytes not yet acknowledged by the service.
    public var bytes_pending: Int64
    /// Bytes per second over the last few seconds.
    public var throughput: Double
    /// Whether the service answers (absent in documents of older versions).
    public var service: ServiceStatus?
    /// True while the daemon, just started, is still counting its earlier files and checking the cache for
    /// changes made while it was not running (absent otherwise): totals may be short until then.
    public var reconciling: Bool?
    public var files: [File]

    public init(summary: UploadSummary) {
        totals = summary.counts.files
        files_total = summary.files.count
        bytes_pending = summary.counts.bytesPending
        throughput = summary.throughput
        service = summary.service
        files = summary.files.map(File.init)
    }

    /// A report of `files`, totals counted from them.
    public init(files: [File], throughput: Double, service: ServiceStatus?, reconciling: Bool?) {
        totals = Dictionary(uniqueKeysWithValues: UploadState.allCases.map { ($0, 0) })
        for file in files { totals[file.state, default: 0] += 1 }
        files_total = files.count
        bytes_pending = files.reduce(0) { $0 + $1.bytesPending }
        self.throughput = throughput
        self.service = service
        self.reconciling = reconciling
        self.files = files
    }

    /// Decodes `status.json`.
    public static func decode(_ data: Data) throws -> UploadStatusReport {
        try JSONDecoder().decode(UploadStatusReport.self, from: data)
    }
}

extension UploadStatusReport.File {
    /// Failed, and no automatic retry is scheduled: it stays failed until retried by hand.
    public var failedForGood: Bool { state.isFailedForGood(retryScheduled: next_attempt != nil) }

    /// Bytes not yet acknowledged by the service, counted as `bytes_pending` counts them.
    public var bytesPending: Int64 { state.bytesPending(size: size, uploaded: uploaded) }

    /// The part of the file the service has: every byte once the upload is finalizing or later.
    public var fraction: Double {
        guard size > 0 else { return state.serviceHasAllBytes ? 1 : 0 }
        return Double(state.bytesUploaded(size: size, uploaded: uploaded)) / Double(size)
    }

    /// The error in one line, for tables and messages.
    public var errorLine: String? {
        error.map { $0.split(whereSeparator: \.isNewline).joined(separator: " ") }
    }
}
