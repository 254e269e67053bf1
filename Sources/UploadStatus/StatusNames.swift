/// The names the status surface uses in the mount.
public enum StatusNames {
    /// Prefix of the status xattrs.
    public static let attributePrefix = "user.tusfs."
    /// A directory's (or file's) totals, readable by name and not listed (so `rsync -aX` does not copy it).
    public static let summaryAttribute = "user.tusfs.summary"
    /// Whether a file's data is in the cache: `yes`, `no` (evicted), `fetching RECEIVED/SIZE`.
    public static let cachedAttribute = "user.tusfs.cached"
    /// The file's name on the service (`user.tusfs.remote_name`), the key after ``attributePrefix``.
    public static let remoteNameKey = "remote_name"
    /// Setting this xattr retries a failed upload.
    public static let retryAttribute = "user.tusfs.retry"
    /// Suffix of a sidecar's name: `NAME.tusfs.json`.
    public static let sidecarSuffix = ".tusfs.json"
    /// The control directory at the mount's root.
    public static let controlDirectory = ".tusfs"
    /// The status document inside the control directory.
    public static let statusDocument = "status.json"
}
