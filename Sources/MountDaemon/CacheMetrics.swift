import Metrics
import MirrorFilesystem
import Synchronization

/// The cache's gauges at `/metrics`, read from the mirror's `CacheSpace` at each scrape (the mirror is made
/// after the metrics endpoint starts, so it is attached later).
final class CacheMetrics: Sendable {
    private let space = Mutex<CacheSpace?>(nil)
    private let bytes = Gauge(label: "tusfs_cache_bytes")
    private let limit = Gauge(label: "tusfs_cache_limit_bytes")
    private let free = Gauge(label: "tusfs_cache_free_bytes")
    private let minFree = Gauge(label: "tusfs_cache_min_free_bytes")
    private let evictions = Gauge(label: "tusfs_cache_evictions")
    private let evictedBytes = Gauge(label: "tusfs_cache_evicted_bytes")
    private let fetches = Gauge(label: "tusfs_cache_fetches")
    private let fetchedBytes = Gauge(label: "tusfs_cache_fetched_bytes")
    private let fetchFailures = Gauge(label: "tusfs_cache_fetch_failures")
    private let waits = Gauge(label: "tusfs_cache_waits")
    private let refusals = Gauge(label: "tusfs_cache_refusals")
    private let waiting = Gauge(label: "tusfs_cache_writers_waiting")

    func attach(_ cacheSpace: CacheSpace?) { space.withLock { $0 = cacheSpace } }

    /// Records the current figures (nothing before the mirror is attached).
    func record() {
        guard let cacheSpace = space.withLock({ $0 }) else { return }
        let figures = cacheSpace.figures()
        bytes.record(figures.cacheBytes)
        limit.record(cacheSpace.limits.maxSize ?? 0)
        free.record(figures.freeBytes)
        minFree.record(figures.minFreeBytes)
        evictions.record(figures.evictions)
        evictedBytes.record(figures.evictedBytes)
        fetches.record(figures.fetches)
        fetchedBytes.record(figures.fetchedBytes)
        fetchFailures.record(figures.fetchFailures)
        waits.record(figures.waits)
        refusals.record(figures.refusals)
        waiting.record(figures.waiting)
    }
}
