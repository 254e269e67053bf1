#if canImport(Glibc)
import Glibc
#endif

/// The name of an entry `readdir` returned, as bytes, read where it lies.
///
/// An entry is only as long as its name needs (`d_reclen`), not the 256 bytes `d_name` is declared with:
/// copying the field whole (`withUnsafeBytes(of: entry.pointee.d_name)`) reads past the entry, and past the end
/// of the directory's buffer when the entry is its last one there, which crashed the daemon (SIGSEGV walking
/// the cache) when that buffer ended a mapped page.
public func directoryEntryName(_ entry: UnsafeMutablePointer<dirent>) -> [UInt8] {
    let offset = MemoryLayout<dirent>.offset(of: \.d_name)!
    let start = UnsafeRawPointer(entry).advanced(by: offset).assumingMemoryBound(to: CChar.self)
    return Array(UnsafeRawBufferPointer(start: start, count: strlen(start)))
}
