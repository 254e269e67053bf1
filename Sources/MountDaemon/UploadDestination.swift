import Foundation
import MediaManagerClient

/// Where a mount's files go, from `--endpoint`, `--tus` or neither (the embedded stand-in service).
struct UploadDestination: CustomStringConvertible {
    enum Kind {
        /// A Media Manager service: the API base.
        case mediaManager(URL)
        /// A plain tus server: its creation endpoint.
        case tus(URL)
        /// The stand-in service, run in-process.
        case embedded
    }

    let kind: Kind
    let credentials: MediaManagerCredentials
    /// The folder on the service that the mount's root maps to ("" = the media root).
    let remoteFolder: String
    /// Extra certificates to trust for https (a private CA).
    let caFile: String?

    init(settings: MountSettings) throws {
        if let endpoint = settings.endpoint {
            kind = .mediaManager(try ServiceURL.parse(endpoint, flag: "endpoint"))
        } else if let tus = settings.tus {
            kind = .tus(try ServiceURL.parse(tus, flag: "tus"))
        } else {
            kind = .embedded
        }
        credentials = settings.credentials
        caFile = settings.caFile
        let folder = settings.remoteFolder ?? ""
        guard !folder.contains("\0"), folder.split(separator: "/").allSatisfy({ $0 != "." && $0 != ".." }) else {
            throw MountError("--remote-folder must be a folder path such as /backup, got \(folder)")
        }
        remoteFolder = folder.split(separator: "/").isEmpty ? "" : "/" + folder.split(separator: "/").joined(separator: "/")
    }

    /// What the background daemon gets in its environment: the API key (never an argument, which `ps` shows).
    var daemonEnvironment: [String: String] {
        guard let key = credentials.apiKey else { return [:] }
        return ["TUSFS_API_KEY": key]
    }

    var description: String {
        switch kind {
        case .mediaManager(let url): "Media Manager service \(url.absoluteString)"
        case .tus(let url): "tus server \(url.absoluteString)"
        case .embedded: "embedded stand-in service"
        }
    }
}
