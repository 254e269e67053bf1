/// What a crashed or interrupted upload needs to continue where the server left off.
///
/// Written to the journal as soon as the target creates the upload, before any byte is sent, so a restart
/// asks the server for its offset (tus HEAD) instead of starting from zero.
public struct ResumeData: Codable, Sendable, Hashable {
    /// The tus upload URL (`Location` of the creation response).
    public var tusUploadURL: String?
    /// The Media Manager upload token that finalizes the upload.
    public var uploadToken: String?
    /// The plain (single PUT) or resumable upload URL the Media Manager generated for this file.
    public var plainUploadURL: String?

    public init(tusUploadURL: String? = nil, uploadToken: String? = nil, plainUploadURL: String? = nil) {
        self.tusUploadURL = tusUploadURL
        self.uploadToken = uploadToken
        self.plainUploadURL = plainUploadURL
    }

    /// True when no field is set.
    public var isEmpty: Bool { tusUploadURL == nil && uploadToken == nil && plainUploadURL == nil }
}
