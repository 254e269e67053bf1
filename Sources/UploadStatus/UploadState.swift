/// Where a file is in its journey from the cache to the service (README, "How files are uploaded").
///
/// Encoded as the lowercase names users see in `user.tusfs.state`, sidecars and `status.json`.
public enum UploadState: String, Codable, CodingKeyRepresentable, Sendable, CaseIterable, Hashable {
    /// Open for writing; nothing is uploaded while a writer may still change it.
    case local
    /// Closed and waiting for the write-back delay to pass or for a free transfer slot.
    case pending
    /// Bytes are moving; `uploadedBytes` is the offset the server acknowledged.
    case uploading
    /// All bytes are on the server; the service is asked to turn the upload into a file.
    case finalizing
    /// The service has the file and says PENDING while it processes it.
    case processing
    /// The service says READY: remote id and URL are known.
    case ready
    /// The last attempt failed; retried with backoff when retryable, and on demand.
    case failed
}
