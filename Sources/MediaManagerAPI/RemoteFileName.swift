/// The name a local file or folder gets on the service: any name a Linux filesystem can hold, mapped to one the
/// service takes (1…200 Unicode scalars, no control or bidirectional-control characters, not `.` or `..`).
///
/// The mapping follows rclone's backend encoders: a name the service takes already is left as it is; what it
/// cannot take is replaced by characters that look like it, and a quote character, ‛ (U+201B), marks
/// everything that was replaced, so the mapping can be undone:
///
/// | local | remote |
/// | --- | --- |
/// | control character U+0000…U+001F, U+007F | its picture, ␀…␟, ␡ (U+2400…U+241F, U+2421) |
/// | a byte that is not part of valid UTF-8 | ‛ and the byte in two upper-case hex digits (`caf\xe9` → `caf‛E9`) |
/// | another character the service refuses (U+0080…U+009F, U+061C, U+200E, U+200F, U+202A…U+202E, U+2066…U+2069), `/`, a name that is `.` or `..` | ‛XX for each of its UTF-8 bytes |
/// | ‛ itself, or one of the pictures above | ‛ before it (`‛‛`, `‛␀`) |
///
/// A name still longer than ``maximumLength`` scalars is shortened: as much of its start as fits, then `‛~`, 16
/// hex digits of a hash (64-bit FNV-1a) of the whole local name, and its extension (`.mp4`, up to 16 scalars),
/// so distinct long names stay distinct and keep their type. A shortened name cannot be decoded; the mount
/// keeps the real name beside it (the sidecar's `path`).
public enum RemoteFileName {
    /// The service's longest name, in Unicode scalars.
    public static let maximumLength = 200
    /// Marks a replaced character.
    public static let quote: Unicode.Scalar = "\u{201B}"
    /// The longest extension a shortened name keeps.
    static let maximumExtensionLength = 16

    /// The remote name of the local name `name` (its bytes; not empty).
    public static func encode<Bytes: Collection<UInt8>>(_ name: Bytes) -> String {
        let bytes = Array(name)
        var tokens = tokenize(bytes)
        if tokens.count == 1 && tokens[0] == ["."] || tokens.count == 2 && tokens == [["."], ["."]] {
            tokens = tokens.map { _ in escaped(UInt8(ascii: ".")) }
        }
        let length = tokens.reduce(0) { $0 + $1.count }
        guard length > maximumLength else { return String(String.UnicodeScalarView(tokens.joined())) }
        return shortened(tokens, of: bytes)
    }

    /// The local name `remote` stands for; nil for a name ``encode(_:)`` shortened or could not have made (a
    /// quote that does not start one of its escapes).
    public static func decode(_ remote: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        let scalars = Array(remote.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if let control = controlCharacter(picturedBy: scalar) {
                bytes.append(control)
                index += 1
            } else if scalar != quote {
                bytes.append(contentsOf: String(scalar).utf8)
                index += 1
            } else if index + 1 < scalars.count, scalars[index + 1] == quote || isPicture(scalars[index + 1]) {
                bytes.append(contentsOf: String(scalars[index + 1]).utf8)
                index += 2
            } else if index + 2 < scalars.count, let high = hexValue(scalars[index + 1]), let low = hexValue(scalars[index + 2]) {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                return nil
            }
        }
        return bytes
    }

    /// True when the service takes `name` as it is: what ``encode(_:)`` always gives.
    public static func isValid(_ name: String) -> Bool {
        let scalars = name.unicodeScalars
        return !scalars.isEmpty && scalars.count <= maximumLength && name != "." && name != ".."
            && !scalars.contains { isRefused($0.value) || $0 == "/" }
    }

    // MARK: tokens: each local character or byte as the scalars that stand for it remotely

    private static func tokenize(_ bytes: [UInt8]) -> [[Unicode.Scalar]] {
        var tokens: [[Unicode.Scalar]] = []
        tokens.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            guard let (scalar, length) = decodeScalar(bytes, at: index) else {
                tokens.append(escaped(bytes[index]))
                index += 1
                continue
            }
            let value = scalar.value
            if value < 0x20 {
                tokens.append([Unicode.Scalar(0x2400 + value)!])
            } else if value == 0x7F {
                tokens.append(["\u{2421}"])
            } else if isRefused(value) || scalar == "/" {
                tokens.append(bytes[index..<index + length].flatMap(escaped))
            } else if scalar == quote || isPicture(scalar) {
                tokens.append([quote, scalar])
            } else {
                tokens.append([scalar])
            }
            index += length
        }
        return tokens
    }

    private static func escaped(_ byte: UInt8) -> [Unicode.Scalar] {
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        return [quote, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
    }

    /// Characters the service refuses (besides `/`): control characters and the bidirectional controls.
    static func isRefused(_ value: UInt32) -> Bool {
        switch value {
        case 0x00...0x1F, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// The pictures that stand for control characters.
    private static func isPicture(_ scalar: Unicode.Scalar) -> Bool {
        (0x2400...0x241F).contains(scalar.value) || scalar.value == 0x2421
    }

    private static func controlCharacter(picturedBy scalar: Unicode.Scalar) -> UInt8? {
        if (0x2400...0x241F).contains(scalar.value) { return UInt8(scalar.value - 0x2400) }
        return scalar.value == 0x2421 ? 0x7F : nil
    }

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt8? {
        switch scalar.value {
        case 0x30...0x39: return UInt8(scalar.value - 0x30)
        case 0x41...0x46: return UInt8(scalar.value - 0x41 + 10)
        default: return nil
        }
    }

    // MARK: names over the limit

    private static func shortened(_ tokens: [[Unicode.Scalar]], of bytes: [UInt8]) -> String {
        var extensionStart = tokens.count
        if let dot = tokens.lastIndex(of: ["."]), dot > 0 {
            let length = tokens[dot...].reduce(0) { $0 + $1.count }
            if length <= maximumExtensionLength { extensionStart = dot }
        }
        let ext = Array(tokens[extensionStart...].joined())
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16, uppercase: true)
        let marker: [Unicode.Scalar] = [quote, "~"] + Array(String(repeating: "0", count: 16 - digits.count).unicodeScalars)
            + Array(digits.unicodeScalars)
        var budget = maximumLength - marker.count - ext.count
        var result = String.UnicodeScalarView()
        for token in tokens[..<extensionStart] {
            guard token.count <= budget else { break }
            result.append(contentsOf: token)
            budget -= token.count
        }
        result.append(contentsOf: marker)
        result.append(contentsOf: ext)
        return String(result)
    }

    /// One UTF-8 scalar at `index` and its length, or nil for a byte that does not start valid UTF-8.
    private static func decodeScalar(_ bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        let length: Int
        var value: UInt32
        switch lead {
        case 0x00...0x7F: return (Unicode.Scalar(lead), 1)
        case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; value = UInt32(lead & 0x07)
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard byte & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        let smallest: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard value >= smallest, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }
}
