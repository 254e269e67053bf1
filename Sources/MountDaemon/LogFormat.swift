import Foundation
import Logging

/// How the daemons (`tusfs mount`, `tusfs serve`) write their log on stderr.
public enum LogFormat: String, CaseIterable, Sendable {
    /// swift-log's text lines: `2026-11-21T08:14:51+0000 info tusfs.upload-engine: path=a.txt [UploadEngine] upload ready`.
    case text
    /// One JSON object per line: `time`, `level`, `label`, `message`, `source`, then the metadata as strings.
    case json

    /// Installs the process-wide log handler.
    public func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            switch self {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLineLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
