// zlib, for its CRC-32 (table-free and several times faster than a Swift loop): see Sources/TusCore/CRC32.swift.
#include <zlib.h>
