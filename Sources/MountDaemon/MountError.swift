/// A mistake about a mount, its settings or its service that the user can fix, reported as one line
/// (`Error: ...`) with a non-zero exit, never a trace.
public struct MountError: Error, CustomStringConvertible, Sendable {
    public let description: String

    /// An error shown as `description`.
    public init(_ description: String) { self.description = description }
}
