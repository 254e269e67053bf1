import AsyncHTTPClient
import Foundation
import MediaManagerAPI
import TusClient

extension MediaManagerClient {
    /// Asks the service once, without retrying, whether it answers: one authenticated List Files of a
    /// single entry. Returns how it answered (any status); throws when no answer came.
    public func probe() async throws -> ServiceAnswer {
        let url = try Self.url(
            baseURL.absoluteString + MediaManagerPath.listFiles,
            adding: ListFilesQuery(paging: CursorPaging(limit: 1)).queryItems)
        var request = HTTPClientRequest(url: url.absoluteString)
        if let apiKey = credentials.apiKey { request.headers.add(name: "Authorization", value: apiKey) }
        if let siteID = credentials.siteID { request.headers.add(name: "wix-site-id", value: siteID) }
        return try await ServiceAnswer.probe(request, with: httpClient)
    }
}
