/// `-o` options: the user's, checked for the ones tusfs sets itself.
enum MountOptions {
    static func parse(_ raw: [String]) throws -> [String] {
        let options = raw.flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
        for option in options {
            let key = option.split(separator: "=", maxSplits: 1).first.map(String.init) ?? option
            if ["fsname", "subtype"].contains(key) {
                throw MountError("-o \(key) is set by tusfs itself")
            }
            if option.contains(" ") { throw MountError("invalid mount option '\(option)'") }
        }
        return options
    }

    /// The mount's source as `/proc/mounts` shows it: `tusfs:CACHEDIR`, so `tusfs unmount` finds the daemon.
    static func source(_ cachePath: String) -> String {
        cachePath.contains(",") ? "tusfs" : "tusfs:\(cachePath)"
    }
}
