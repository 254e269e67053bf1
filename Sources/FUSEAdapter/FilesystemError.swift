#if canImport(Glibc)
import Glibc
#endif

/// The one error type a `Filesystem` throws: an errno value for the kernel.
///
/// Every failure of a filesystem operation is mapped to an errno exactly once, where it happens (a failed
/// system call carries its own errno); the adapter replies with it unchanged.
public struct FilesystemError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The positive errno value sent to the kernel (ENOENT, EEXIST, ...).
    public let errno: Int32

    public init(_ errno: Int32) { self.errno = errno }

    /// The error of the last failed system call on this thread.
    public static var lastSystemCall: FilesystemError { FilesystemError(Glibc.errno) }

    public static let notFound = FilesystemError(ENOENT)
    public static let exists = FilesystemError(EEXIST)
    public static let notPermitted = FilesystemError(EPERM)
    public static let invalid = FilesystemError(EINVAL)
    public static let nameTooLong = FilesystemError(ENAMETOOLONG)
    public static let notSupported = FilesystemError(EOPNOTSUPP)
    public static let noData = FilesystemError(ENODATA)
    public static let badHandle = FilesystemError(EBADF)

    public var description: String { String(cString: strerror(errno)) }
}
