#if canImport(Glibc)
import Glibc
#endif

/// Memory settings for long uploads.
public enum DaemonMemory {
    /// Body blocks are allocated on one thread and freed on an event loop thread. With glibc's sliding mmap
    /// threshold they end up in per-thread arenas that fragment (peak RSS of a 4 GiB upload: 105 MiB); a
    /// fixed threshold keeps 256 KiB blocks in mmap and the peak near 60 MiB.
    public static func limitArenaGrowth() {
        #if canImport(Glibc)
        _ = glibcMallopt(glibcMmapThreshold, 128 * 1024)
        #endif
    }
}

#if canImport(Glibc)
/// glibc's `mallopt` (not exported by the Glibc module); `M_MMAP_THRESHOLD` is -3 in <malloc.h>.
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let glibcMmapThreshold: Int32 = -3
#endif
