/// The JSON body of every error answer: `{ "message": "…", "details": { … } }`.
public struct ErrorResponse: Codable, Sendable, Equatable, Error {
    /// What went wrong, for a person.
    public var message: String
    /// Machine-readable details.
    public var details: ErrorDetails?
    public init(message: String, details: ErrorDetails? = nil) {
        self.message = message
        self.details = details
    }
}

/// `details` of an ``ErrorResponse``.
public struct ErrorDetails: Codable, Sendable, Equatable {
    /// A code and description of an application-level error.
    public struct ApplicationError: Codable, Sendable, Equatable {
        public var code: String
        public var description: String
        public init(code: String, description: String) {
            self.code = code
            self.description = description
        }
    }
    public var applicationError: ApplicationError?
    public init(applicationError: ApplicationError? = nil) { self.applicationError = applicationError }
}

/// Body of the File Ready event.
public struct FileReadyEvent: Codable, Sendable, Equatable {
    public var file: FileDescriptor
    public var externalInfo: ExternalInfo?
    public var triggeredByUndelete: Bool
    public init(file: FileDescriptor, externalInfo: ExternalInfo? = nil, triggeredByUndelete: Bool = false) {
        self.file = file
        self.externalInfo = externalInfo
        self.triggeredByUndelete = triggeredByUndelete
    }
}

/// Body of the File Failed event (the file id is the envelope's `entityId`).
public struct FileFailedEvent: Codable, Sendable, Equatable {
    public var externalInfo: ExternalInfo?
    /// Why processing failed (ours; the real event carries no reason).
    public var reason: String?
    public init(externalInfo: ExternalInfo? = nil, reason: String? = nil) {
        self.externalInfo = externalInfo
        self.reason = reason
    }
}

/// The envelope of a webhook event, as `tusfs serve` posts it (JSON, signed; the real service sends a JWT).
public struct WebhookEnvelope<Body: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    /// The event's own id.
    public var id: String
    /// `wix.media.site_media.v1.file_descriptor`.
    public var entityFqdn: String
    /// `file_ready` or `file_failed`.
    public var slug: String
    /// The file id.
    public var entityId: String
    /// When the event happened (ISO 8601).
    public var eventTime: String
    /// `{ "body": … }`.
    public var actionEvent: ActionEvent

    /// The event's payload.
    public struct ActionEvent: Codable, Sendable, Equatable {
        public var body: Body
        public init(body: Body) { self.body = body }
    }

    public init(id: String, slug: String, entityId: String, eventTime: String, body: Body) {
        self.id = id
        self.entityFqdn = WebhookEvent.fileDescriptorEntity
        self.slug = slug
        self.entityId = entityId
        self.eventTime = eventTime
        self.actionEvent = ActionEvent(body: body)
    }
}

/// Names used by webhook events.
public enum WebhookEvent {
    /// The entity of file events.
    public static let fileDescriptorEntity = "wix.media.site_media.v1.file_descriptor"
    /// Slug of File Ready.
    public static let fileReady = "file_ready"
    /// Slug of File Failed.
    public static let fileFailed = "file_failed"
    /// Header carrying `sha256=<hex HMAC-SHA256 of the body>` (ours).
    public static let signatureHeader = "X-Tusfs-Signature"
}
