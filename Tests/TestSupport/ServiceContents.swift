import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What a Media Manager service holds, read through its API the way a user of the service would: the folder
/// tree from the media root, every file in it by path (`videos/2024/a.mp4`), and downloads by file URL.
public struct ServiceContents: Sendable {
    /// One file on the service.
    public struct File: Sendable {
        public var id: String
        public var path: String
        public var url: String?
        public var operationStatus: String?
        public var size: Int64?
    }

    /// Files by path relative to the folder the listing started from.
    public var files: [String: File]
    /// Folder paths (relative, no leading slash).
    public var folders: Set<String>

    /// Lists everything under `rootFolderId` (default: the media root) of the service at `apiURL`.
    public static func list(apiURL: URL, apiKey: String?, rootFolderId: String = "media-root") async throws -> ServiceContents {
        var contents = ServiceContents(files: [:], folders: [])
        var pending: [(id: String, path: String)] = [(rootFolderId, "")]
        while let (folderId, prefix) = pending.popLast() {
            for folder in try await pages(apiURL, "folders", key: "folders", parent: folderId, apiKey: apiKey) {
                guard let id = folder["id"] as? String, let name = folder["displayName"] as? String else { continue }
                let path = prefix.isEmpty ? name : prefix + "/" + name
                contents.folders.insert(path)
                pending.append((id, path))
            }
            for file in try await pages(apiURL, "files", key: "files", parent: folderId, apiKey: apiKey) {
                guard let id = file["id"] as? String, let name = file["displayName"] as? String else { continue }
                let path = prefix.isEmpty ? name : prefix + "/" + name
                if contents.files[path] != nil { throw TestFailure("two files named \(path) on the service") }
                contents.files[path] = File(
                    id: id, path: path, url: file["url"] as? String, operationStatus: file["operationStatus"] as? String,
                    size: (file["sizeInBytes"] as? String).flatMap { Int64($0) })
            }
        }
        return contents
    }

    /// The bytes of a file, downloaded from its URL.
    public static func download(_ file: File) async throws -> Data {
        guard let text = file.url, let url = URL(string: text) else { throw TestFailure("\(file.path) has no URL") }
        let response = try await HTTPTestClient.send("GET", url)
        guard response.status == 200 else { throw TestFailure("GET \(text): \(response.status) \(response.text)") }
        return response.body
    }

    /// How many files the service holds in its trash.
    public static func trashCount(apiURL: URL, apiKey: String?) async throws -> Int {
        let response = try await HTTPTestClient.json(
            "POST", apiURL.appendingPathComponent("files/search"), ["rootFolder": "TRASH_ROOT", "paging": ["limit": 100]],
            headers: apiKey.map { ["Authorization": $0] } ?? [:])
        guard response.status == 200, let files = response.json?["files"] as? [Any] else {
            throw TestFailure("search trash: \(response.status) \(response.text)")
        }
        return files.count
    }

    private static func pages(
        _ apiURL: URL, _ resource: String, key: String, parent: String, apiKey: String?
    ) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var cursor: String?
        repeat {
            var components = URLComponents(url: apiURL.appendingPathComponent(resource), resolvingAgainstBaseURL: false)!
            components.queryItems = [URLQueryItem(name: "parentFolderId", value: parent), URLQueryItem(name: "paging.limit", value: "100")]
                + (cursor.map { [URLQueryItem(name: "paging.cursor", value: $0)] } ?? [])
            let response = try await HTTPTestClient.send("GET", components.url!, headers: apiKey.map { ["Authorization": $0] } ?? [:])
            guard response.status == 200, let json = response.json else {
                throw TestFailure("GET \(resource) of \(parent): \(response.status) \(response.text)")
            }
            items += json[key] as? [[String: Any]] ?? []
            let next = json["nextCursor"] as? [String: Any]
            cursor = (next?["hasNext"] as? Bool ?? false) ? (next?["cursors"] as? [String: Any])?["next"] as? String : nil
        } while cursor != nil
        return items
    }
}
