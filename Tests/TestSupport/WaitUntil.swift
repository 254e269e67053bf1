import Foundation
import Testing

/// Waits until `condition` holds, checking every 10 ms; fails the test after `timeout` seconds.
public func waitUntil(
    timeout: Double = 20, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out after \(timeout)s waiting until \(what)", sourceLocation: sourceLocation)
    throw TestFailure("timed out: \(what)")
}

/// The error of type `E` that `body` threw, or nil if it returned; another error is recorded as an issue.
public func thrownError<E: Error>(
    _ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async -> E? {
    do {
        try await body()
    } catch let error as E {
        return error
    } catch {
        Issue.record("not a \(E.self): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
