#if canImport(Glibc)
import Glibc
#endif

/// Process limits the daemon raises at start.
enum ResourceLimits {
    /// Every inode the kernel holds keeps one descriptor open: allow as many as the system lets us. Returns the
    /// limit now in force.
    @discardableResult
    static func raiseOpenFiles() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if geteuid() == 0, let text = try? String(contentsOfFile: "/proc/sys/fs/nr_open", encoding: .utf8),
            let systemMax = rlim_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), systemMax > limit.rlim_max
        {
            var raised = rlimit(rlim_cur: systemMax, rlim_max: systemMax)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return Int(clamping: systemMax) }
        }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Int(clamping: limit.rlim_cur)
    }
}
