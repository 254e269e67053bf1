import ArgumentParser
import StatusClient

/// `tusfs cache evict|fetch PATH…`: frees the cache space of files the service holds, or reads evicted files
/// back before a job needs them (see `CacheRequest`).
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Evict files from a tusfs mount's cache, or read them back.",
        subcommands: [Evict.self, Fetch.self])

    struct Evict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop the cached data of files the service holds (they stay listed and are read back when opened).",
            discussion: "A directory stands for every file below it. Exit status: 0 when every file was evicted (or already was), 1 when some could not be (one line each on stderr).")

        @Argument(help: "Files or directories in a tusfs mount.")
        var paths: [String]

        func run() throws { try CacheCommand.apply(.evict, to: paths) }
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read evicted files back from the service into the cache.",
            discussion: "A directory stands for every file below it. Exit status: 0 when every file is in the cache, 1 when some could not be read back (one line each on stderr).")

        @Argument(help: "Files or directories in a tusfs mount.")
        var paths: [String]

        func run() throws { try CacheCommand.apply(.fetch, to: paths) }
    }

    static func apply(_ request: CacheRequest, to paths: [String]) throws {
        let failures = request.apply(to: paths)
        for failure in failures { CommandFailure.report(failure) }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}
