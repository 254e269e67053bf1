import HTTPTypes
import TusCore

/// The tus headers as `HTTPField` names.
extension HTTPField.Name {
    static let tusResumable = HTTPField.Name(TusHeader.resumable)!
    static let tusVersion = HTTPField.Name(TusHeader.version)!
    static let tusExtension = HTTPField.Name(TusHeader.extensions)!
    static let tusMaxSize = HTTPField.Name(TusHeader.maxSize)!
    static let tusChecksumAlgorithm = HTTPField.Name(TusHeader.checksumAlgorithm)!
    static let uploadOffset = HTTPField.Name(TusHeader.uploadOffset)!
    static let uploadLength = HTTPField.Name(TusHeader.uploadLength)!
    static let uploadDeferLength = HTTPField.Name(TusHeader.uploadDeferLength)!
    static let uploadMetadata = HTTPField.Name(TusHeader.uploadMetadata)!
    static let uploadExpires = HTTPField.Name(TusHeader.uploadExpires)!
    static let uploadChecksum = HTTPField.Name(TusHeader.uploadChecksum)!
    static let uploadConcat = HTTPField.Name(TusHeader.uploadConcat)!
    /// `X-HTTP-Method-Override`.
    public static let methodOverride = HTTPField.Name(TusHeader.methodOverride)!
}
