import Logging

/// Loggers for the commands: always on stderr (stdout carries results), warnings only unless verbose.
public enum CommandLogging {
    /// A logger labelled `label` on stderr, at debug level when `verbose`.
    public static func logger(_ label: String, verbose: Bool) -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }
}
