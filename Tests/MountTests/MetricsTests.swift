import Foundation
import TestSupport
import Testing

/// `tusfs mount --metrics-listen`: Prometheus text that follows the uploads.
@Suite("Mount metrics", .serialized)
struct MetricsTests {
    /// The value of the sample `name` (with its labels, e.g. `tusfs_uploads{state="ready"}`) in `text`.
    func sample(_ text: String, _ name: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    @Test func metricsFollowAnUpload() async throws {
        let port = try LoopbackPort.free()
        try await withTusfsMount("metrics", extraArguments: ["--metrics-listen", "127.0.0.1:\(port)", "--write-back", "0"]) { mount in
            let url = try #require(URL(string: "http://127.0.0.1:\(port)/metrics"))
            let before = try await HTTPTestClient.send("GET", url)
            #expect(before.status == 200)
            #expect(before.header("Content-Type")?.hasPrefix("text/plain") == true)
            #expect(sample(before.text, "tusfs_uploads{state=\"ready\"}") == 0, "\(before.text)")

            try Data(repeating: 3, count: 70_000).write(to: URL(fileURLWithPath: mount.path("a.bin")))
            let wait = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["wait", mount.mountpoint, "--timeout", "60"])
            #expect(wait.status == 0, "\(wait.stderr)")
            let after = try await HTTPTestClient.send("GET", url).text
            #expect(sample(after, "tusfs_uploads{state=\"ready\"}") == 1, "\(after)")
            #expect(sample(after, "tusfs_uploads_finished_total{outcome=\"ready\"}") == 1, "\(after)")
            #expect((sample(after, "tusfs_upload_bytes_total") ?? 0) >= 70_000, "\(after)")
            #expect(sample(after, "tusfs_upload_bytes_pending") == 0, "\(after)")
            // The latency histogram of kernel requests: the file was looked up and created through the mount.
            let creates = after.split(separator: "\n").first { $0.hasPrefix("tusfs_fuse_operation_duration_seconds_count{") && $0.contains("operation=\"create\"") }
            #expect((creates?.split(separator: " ").last.flatMap { Double($0) } ?? 0) >= 1, "\(after)")
            #expect(after.contains("tusfs_fuse_operation_duration_seconds_bucket{"), "\(after)")

            // The cache's figures: an eviction, then a read-back of the same file.
            let evict = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["cache", "evict", mount.path("a.bin")])
            #expect(evict.succeeded, "\(evict.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: mount.path("a.bin"))) == Data(repeating: 3, count: 70_000))
            let fetch = try ProcessRunner.run(ProcessRunner.tusfsExecutable, ["cache", "fetch", mount.path("a.bin")])
            #expect(fetch.succeeded, "\(fetch.stderr)")
            let cache = try await HTTPTestClient.send("GET", url).text
            #expect(sample(cache, "tusfs_cache_evictions") == 1, "\(cache)")
            #expect(sample(cache, "tusfs_cache_evicted_bytes") == 70_000, "\(cache)")
            #expect(sample(cache, "tusfs_cache_fetches") == 1, "\(cache)")
            #expect(sample(cache, "tusfs_cache_fetched_bytes") == 70_000, "\(cache)")
            #expect((sample(cache, "tusfs_cache_bytes") ?? 0) >= 70_000, "\(cache)")
            #expect((sample(cache, "tusfs_cache_free_bytes") ?? 0) > 0, "\(cache)")
            #expect(sample(cache, "tusfs_cache_limit_bytes") == 0, "\(cache)")
            #expect(sample(cache, "tusfs_cache_writers_waiting") == 0, "\(cache)")
        }
    }
}
