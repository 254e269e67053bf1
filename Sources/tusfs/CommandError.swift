/// A mistake the user can fix, reported as one line (`Error: ...`) with a non-zero exit, never a trace.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
