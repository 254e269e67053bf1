import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address, and whether it is a public Internet address (``isPublic``).
struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6), in network order.
    let bytes: [UInt8]

    /// Parses a numeric address in the standard forms (`inet_pton`): `192.0.2.1`, `2001:db8::1`.
    init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    init(bytes: [UInt8]) {
        precondition(bytes.count == 4 || bytes.count == 16)
        self.bytes = bytes
    }

    /// The standard text form (`inet_ntop`).
    var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var copy = bytes
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        guard inet_ntop(family, &copy, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether this is a public unicast address: not loopback, private (RFC 1918, fc00::/7), shared (100.64/10),
    /// link-local, multicast, broadcast, unspecified, documentation, benchmarking or otherwise reserved. IPv6
    /// forms that carry an IPv4 address (`::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by
    /// that address.
    var isPublic: Bool {
        if bytes.count == 4 { return Self.isPublicV4(bytes[0], bytes[1], bytes[2]) }
        let b = bytes
        let zeros = b[0..<10].allSatisfy { $0 == 0 }
        if zeros, b[10] == 0xFF, b[11] == 0xFF { return Self.isPublicV4(b[12], b[13], b[14]) }  // IPv4-mapped
        if b[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return Self.isPublicV4(b[12], b[13], b[14]) }  // NAT64
        if b[0] == 0x20, b[1] == 0x02 { return Self.isPublicV4(b[2], b[3], b[4]) }  // 6to4
        guard b[0] & 0xE0 == 0x20 else { return false }  // outside 2000::/3, global unicast (::, ::1, fc00::/7, fe80::/10, ff00::/8…)
        if b[0] == 0x20, b[1] == 0x01, b[2] & 0xFE == 0 { return false }  // 2001::/23 protocol assignments (Teredo…)
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0D, b[3] == 0xB8 { return false }  // 2001:db8::/32 documentation
        if b[0] == 0x3F, b[1] == 0xFF, b[2] & 0xF0 == 0 { return false }  // 3fff::/20 documentation
        return true
    }

    private static func isPublicV4(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Bool {
        switch (a, b, c) {
        case (0, _, _), (10, _, _), (127, _, _): return false  // this network, private, loopback
        case (100, 64...127, _): return false  // shared address space (carrier-grade NAT)
        case (169, 254, _): return false  // link-local
        case (172, 16...31, _), (192, 168, _): return false  // private
        case (192, 0, 0), (192, 0, 2), (192, 88, 99), (198, 51, 100), (203, 0, 113): return false  // special, documentation
        case (198, 18...19, _): return false  // benchmarking
        case (224..., _, _): return false  // multicast, reserved, broadcast
        default: return true
        }
    }

    /// The addresses `host` resolves to (`getaddrinfo`, TCP), in the resolver's order. Blocks.
    static func resolve(_ host: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let list else { throw ImportError("cannot resolve \(host): \(String(cString: gai_strerror(status)))") }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            if let address = current.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    let v4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    addresses.append(IPAddress(bytes: withUnsafeBytes(of: v4) { Array($0) }))
                case AF_INET6:
                    let v6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    addresses.append(IPAddress(bytes: withUnsafeBytes(of: v6) { Array($0) }))
                default: break
                }
            }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw ImportError("cannot resolve \(host): no address") }
        return addresses
    }
}
