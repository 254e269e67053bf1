import Foundation

/// `tusfs` started as `mount.fuse.tusfs` (or `mount.tusfs`): the helper that mount(8) runs for an fstab
/// entry of type `fuse.tusfs`, as `mount.fuse.tusfs SOURCE MOUNTPOINT [-o OPTIONS] [-n] [-s] [-v] [-f]`.
/// Its arguments are turned into a `tusfs mount` command line:
/// - SOURCE `tusfs` means the defaults; `tusfs:DIR` or a directory is the cache directory; a `.toml` file
///   is the config file.
/// - options named like a config key (`endpoint=`, `api_key_file=`, `transfers=`, `write_back=`, `cache=`,
///   `config=`, …, with `_` or `-`) become the matching flag; `no_passthrough` too;
/// - mount(8)'s own options (`defaults`, `auto`, `noauto`, `user`, `users`, `nofail`, `_netdev`, `x-…`,
///   `comment=…`) are dropped; everything else (`allow_other`, `ro`, `noatime`, …) goes to FUSE as `-o`.
public enum FstabMount {
    /// True when the program was started under a mount helper's name.
    public static func isHelper(_ programPath: String) -> Bool {
        let name = (programPath.split(separator: "/").last.map(String.init)) ?? programPath
        return name == "mount.fuse.tusfs" || name == "mount.tusfs"
    }

    static let valueOptions: [String: String] = [
        "endpoint": "--endpoint", "api_key_file": "--api-key-file", "site_id": "--site-id", "tus": "--tus",
        "remote_folder": "--remote-folder", "transfers": "--transfers", "max_requests": "--max-requests", "max_chunk_size": "--max-chunk-size", "write_back": "--write-back", "cache": "--cache",
        "threads": "--threads", "log_level": "--log-level", "config": "--config", "webhook_listen": "--webhook-listen",
        "webhook_secret_file": "--webhook-secret-file",
    ]
    static let mountOnlyOptions: Set<String> = ["defaults", "auto", "noauto", "user", "users", "nouser", "owner", "group", "nofail", "_netdev"]

    /// The `tusfs mount …` arguments for a helper invocation (empty for `-f`, pretend); throws a one-line
    /// error for a malformed one.
    public static func arguments(_ helperArguments: [String]) throws -> [String] {
        var positional: [String] = []
        var options: [String] = []
        var index = 0
        while index < helperArguments.count {
            let argument = helperArguments[index]
            if argument == "-o" {
                guard index + 1 < helperArguments.count else { throw MountError("-o needs a value") }
                options += helperArguments[index + 1].split(separator: ",").map(String.init)
                index += 2
                continue
            }
            if argument.hasPrefix("-o") {
                options += argument.dropFirst(2).split(separator: ",").map(String.init)
            } else if argument.hasPrefix("-") {
                // -n (no mtab), -s (sloppy), -v (verbose), -f (fake) from mount(8): nothing to do for them.
                if argument == "-f" { return [] }
            } else {
                positional.append(argument)
            }
            index += 1
        }
        guard positional.count == 2 else {
            throw MountError("usage: mount.fuse.tusfs SOURCE MOUNTPOINT [-o OPTIONS] (as mount(8) runs it)")
        }
        let (source, mountpoint) = (positional[0], positional[1])
        var result = ["mount", mountpoint]
        var isDirectory: ObjCBool = false
        if source.hasPrefix("tusfs:") {
            result += ["--cache", String(source.dropFirst(6))]
        } else if source.hasSuffix(".toml") {
            result += ["--config", source]
        } else if source != "tusfs", FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue {
            result += ["--cache", source]
        }
        var fuseOptions: [String] = []
        for option in options where !option.isEmpty {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts[0].replacingOccurrences(of: "-", with: "_")
            if let flag = valueOptions[key] {
                guard parts.count == 2 else { throw MountError("mount option \(parts[0]) needs a value (\(parts[0])=…)") }
                result += [flag, parts[1]]
            } else if key == "no_passthrough" {
                result.append("--no-passthrough")
            } else if mountOnlyOptions.contains(key) || key.hasPrefix("x_") || key == "comment" || key == "rw" {
                continue
            } else {
                fuseOptions.append(option)
            }
        }
        if !fuseOptions.isEmpty { result += ["-o", fuseOptions.joined(separator: ",")] }
        return result
    }
}
