import Foundation
import MediaManagerAPI

// libFuzzer target `remote-file-names`: the mapping of local file names to names the service takes.
//
// Production code under test (compiled as is by Scripts/fuzz.sh): MediaManagerAPI's `RemoteFileName.encode` and
// `.decode`, and MediaService's `NameRules.checkName` (the check `tusfs serve` applies to every name it is sent).
//
// The input is one local name: its bytes, with NUL and `/` (which no name holds) dropped. Properties: the remote
// name passes `NameRules.checkName`, and the stricter rule of the service (at most 200 Unicode scalars, no
// control characters U+0000…U+001F and U+007F…U+009F, no bidirectional controls U+061C, U+200E, U+200F,
// U+202A…U+202E, U+2066…U+2069); a name not shortened decodes to the input bytes, a shortened one (`‛~` and a
// hash) does not decode; a name the service takes that holds no ‛ and no control picture maps to itself.

private func isStrictlyRefused(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00...0x1F, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
    default: return false
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let name = UnsafeRawBufferPointer(start: start, count: count).filter { $0 != 0 && $0 != UInt8(ascii: "/") }
    guard !name.isEmpty, name.count <= 4096 else { return 0 }
    let remote = RemoteFileName.encode(name)
    do {
        _ = try NameRules.checkName(remote, field: "fileName")
    } catch {
        fatalError("\(name) encodes to \(remote.debugDescription), which the service refuses: \(error)")
    }
    let scalars = remote.unicodeScalars
    guard scalars.count <= RemoteFileName.maximumLength, !scalars.contains(where: isStrictlyRefused) else {
        fatalError("\(name) encodes to \(remote.debugDescription), refused by the scalar rule")
    }
    switch RemoteFileName.decode(remote) {
    case name?: break
    case nil where remote.contains("\u{201B}~"): break  // shortened: the real name is kept by the mount
    case let other: fatalError("\(name) encodes to \(remote.debugDescription), which decodes to \(String(describing: other))")
    }
    if let text = String(validating: name, as: UTF8.self), RemoteFileName.isValid(text),
        !text.unicodeScalars.contains(where: { $0 == "\u{201B}" || (0x2400...0x2421).contains($0.value) })
    {
        guard remote == text else { fatalError("\(text.debugDescription) is valid but became \(remote.debugDescription)") }
    }
    return 0
}
