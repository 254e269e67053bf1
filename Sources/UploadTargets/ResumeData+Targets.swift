import UploadStatus

/// The resume values the targets of this module store. The names are the journal's column names from before
/// resume data became the target's own business, so a journal written then resumes as before.
extension ResumeData {
    init(tusUploadURL: String? = nil, uploadToken: String? = nil, plainUploadURL: String? = nil) {
        self.init(["tusUploadURL": tusUploadURL, "uploadToken": uploadToken, "plainUploadURL": plainUploadURL])
    }

    /// The tus upload URL (`Location` of the creation response).
    var tusUploadURL: String? {
        get { self["tusUploadURL"] }
        set { self["tusUploadURL"] = newValue }
    }

    /// The Media Manager upload token that finalizes the upload.
    var uploadToken: String? {
        get { self["uploadToken"] }
        set { self["uploadToken"] = newValue }
    }

    /// The plain (single PUT) or resumable upload URL the Media Manager generated for this file.
    var plainUploadURL: String? {
        get { self["plainUploadURL"] }
        set { self["plainUploadURL"] = newValue }
    }
}
