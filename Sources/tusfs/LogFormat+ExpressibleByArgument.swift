import ArgumentParser
import MountDaemon

/// `--log-format text|json` (`tusfs mount`, `tusfs serve`).
extension LogFormat: ExpressibleByArgument {}
