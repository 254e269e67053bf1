/// Request paths as the log shows them. Upload URLs carry their credential in the path (`/upload/put/TICKET`,
/// `/upload/tus/TICKET/…`, and the finalize call's upload token after the ticket): anyone who reads a log line
/// with one could upload with it until it expires. So the ticket and the segment after it are replaced by `…`,
/// except a tus upload id (32 hex digits: it grants nothing without the ticket and helps to follow an upload).
enum LoggedPath {
    static func redacted(_ path: String) -> String {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 4, segments[1] == "upload", segments[2] == "put" || segments[2] == "tus" else { return path }
        segments[3] = "…"
        for index in segments.indices.dropFirst(4) where !isUploadID(segments[index]) { segments[index] = "…" }
        return segments.joined(separator: "/")
    }

    private static func isUploadID(_ segment: Substring) -> Bool {
        segment.utf8.count == 32 && segment.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}
