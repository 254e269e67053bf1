import Crypto
import Foundation

/// Signs and verifies the tokens inside upload and download URLs with HMAC-SHA256.
///
/// A signed token is `base64url(JSON claims).base64url(HMAC)`. The key is made once per data directory
/// (`DATA/signing.key`, mode 0600), so URLs stay valid across restarts.
struct URLSigner: Sendable {
    private let keyBytes: Data
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    init(keyBytes: Data) { self.keyBytes = keyBytes }

    /// Loads the key from `file`, creating a random one on first use.
    static func load(from file: URL) throws -> URLSigner {
        if let data = FileManager.default.contents(atPath: file.path), data.count == 32 {
            return URLSigner(keyBytes: data)
        }
        let key = SymmetricKey(size: .bits256)
        let data = key.withUnsafeBytes { Data($0) }
        // Unsaved, the key would change at the next start and every URL handed out would stop working.
        guard FileManager.default.createFile(atPath: file.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw MediaServiceError.internalError("cannot write the signing key \(file.path): \(String(cString: strerror(errno)))")
        }
        return URLSigner(keyBytes: data)
    }

    /// The signed token for `claims`.
    func sign<Claims: Encodable>(_ claims: Claims) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let payload = (try? encoder.encode(claims)) ?? Data()
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return Base64URL.encode(payload) + "." + mac.withUnsafeBytes { Base64URL.encode($0) }
    }

    /// The claims of a signed token.
    /// - Throws: ``MediaServiceError/badSignature`` when the token is malformed or its MAC does not verify.
    func verify<Claims: Decodable>(_ token: String, as type: Claims.Type) throws -> Claims {
        let utf8 = token.utf8
        guard let dot = utf8.firstIndex(of: UInt8(ascii: ".")), !utf8[utf8.index(after: dot)...].contains(UInt8(ascii: ".")),
            let payload = Base64URL.decode(token[..<dot]), let mac = Base64URL.decode(token[token.index(after: dot)...]),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key)
        else { throw MediaServiceError.badSignature }
        do {
            return try JSONDecoder().decode(Claims.self, from: payload)
        } catch {
            throw MediaServiceError.badSignature
        }
    }

    /// A MAC of `text` as base64url, for derived secrets such as upload tokens.
    func mac(_ text: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key).withUnsafeBytes { Base64URL.encode($0) }
    }
}

/// Compares two secrets in time that does not depend on where they differ.
public enum ConstantTime {
    public static func equals(_ a: String, _ b: String) -> Bool {
        // Compare fixed-size digests, so the lengths of the secrets do not leak either.
        let da = Array(SHA256.hash(data: Data(a.utf8)))
        let db = Array(SHA256.hash(data: Data(b.utf8)))
        var diff: UInt8 = 0
        for i in 0..<da.count { diff |= da[i] ^ db[i] }
        return diff == 0
    }
}

/// What an upload URL grants: the claims signed into `/upload/put/TICKET` and `/upload/tus/TICKET`.
struct UploadTicket: Codable, Sendable {
    enum Kind: String, Codable, Sendable {
        case put
        case tus
    }
    /// Plain PUT or tus.
    var kind: Kind
    /// Random, unique per URL; the key of its single-use record.
    var nonce: String
    /// Expiry, seconds since 1970.
    var exp: Double
    var mimeType: String
    var fileName: String?
    var parentFolderId: String
    var isPrivate: Bool
    var labels: [String]
    var externalInfo: ExternalInfoClaims?
    var sizeInBytes: Int64?

    struct ExternalInfoClaims: Codable, Sendable {
        var origin: String?
        var externalIds: [String]?
    }

    var isExpired: Bool { Date().timeIntervalSince1970 >= exp }

    /// The longest signed ticket an upload URL may carry, in bytes: with the rest of the URL it stays well within
    /// the 80 KiB the HTTP decoder accepts for a request head. Only large labels and `externalInfo` come near it.
    static let maxSignedLength = 32 * 1024
}

/// What a download URL grants: reading one file until `exp`.
struct DownloadClaims: Codable, Sendable {
    var fileId: String
    var exp: Double
}
