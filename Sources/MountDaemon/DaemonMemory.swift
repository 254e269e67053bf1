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

    /// Hands the memory a burst of work freed back to the system: checked every `interval`, once per burst,
    /// when `state()` says nothing is moving (`idle`) and `work` (anything that changes as files settle) moved
    /// since the last time. glibc keeps freed memory in its arenas; after 20,000 files copied in at once the
    /// daemon would otherwise keep the peak for good.
    public static func returnFreedMemoryWhenIdle(
        every interval: Duration = .seconds(30), state: @escaping @Sendable () -> (idle: Bool, work: Int)
    ) -> Task<Void, Never> {
        Task.detached(priority: .background) {
            var trimmedAfter: Int?
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                let now = state()
                guard now.idle, now.work != trimmedAfter else { continue }
                trimmedAfter = now.work
                #if canImport(Glibc)
                _ = glibcMallocTrim(0)
                #endif
            }
        }
    }
}

#if canImport(Glibc)
/// glibc's `mallopt` (not exported by the Glibc module); `M_MMAP_THRESHOLD` is -3 in <malloc.h>.
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let glibcMmapThreshold: Int32 = -3
/// glibc's `malloc_trim` (<malloc.h>): returns free memory at the top of each arena, and whole free pages
/// inside them, to the system.
@_silgen_name("malloc_trim") private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
