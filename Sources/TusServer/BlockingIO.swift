import NIOPosix

/// Runs blocking file-system work (fsync, hashing a large file) on NIO's thread pool, so it never holds one of the
/// few threads of the Swift concurrency pool that every request (and an embedding app) shares.
public func runBlocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(work)
}
