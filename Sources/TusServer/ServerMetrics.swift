import Foundation
import Synchronization

/// Counters of a running server, rendered in the Prometheus text format at `GET /metrics`.
public final class ServerMetrics: Sendable {
    private struct RequestKey: Hashable {
        let method: String
        let route: String
        let status: Int
    }
    private struct State {
        var bytesReceived: Int64 = 0
        var requests: [RequestKey: Int64] = [:]
        var uploadsCompleted: Int64 = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// Counts body bytes accepted by an upload (PUT or PATCH).
    public func addBytesReceived(_ count: Int64) {
        state.withLock { $0.bytesReceived += count }
    }

    /// Counts one answered request.
    public func countRequest(method: String, route: String, status: Int) {
        state.withLock { $0.requests[RequestKey(method: method, route: route, status: status), default: 0] += 1 }
    }

    /// Counts one upload whose last byte arrived.
    public func countUploadCompleted() {
        state.withLock { $0.uploadsCompleted += 1 }
    }

    /// Total body bytes accepted so far.
    public var bytesReceived: Int64 { state.withLock { $0.bytesReceived } }

    /// The Prometheus text exposition of every counter.
    public func prometheusText() -> String {
        let snapshot = state.withLock { $0 }
        var out = """
            # HELP tusfs_server_bytes_received_total Body bytes accepted by upload PUT and PATCH requests.
            # TYPE tusfs_server_bytes_received_total counter
            tusfs_server_bytes_received_total \(snapshot.bytesReceived)
            # HELP tusfs_server_uploads_completed_total Uploads whose last byte arrived.
            # TYPE tusfs_server_uploads_completed_total counter
            tusfs_server_uploads_completed_total \(snapshot.uploadsCompleted)
            # HELP tusfs_server_requests_total Requests answered, by method, route and status.
            # TYPE tusfs_server_requests_total counter

            """
        let sorted = snapshot.requests.sorted {
            ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status)
        }
        for (key, count) in sorted {
            out += "tusfs_server_requests_total{method=\"\(escape(key.method))\",route=\"\(escape(key.route))\",status=\"\(key.status)\"} \(count)\n"
        }
        return out
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
