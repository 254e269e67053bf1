// CRC-32 (IEEE 802.3, zlib's) with the CPU's carry-less multiply when it has one: see crc32_fast.c.
#ifndef TUSFS_CRC32_FAST_H
#define TUSFS_CRC32_FAST_H

#include <stddef.h>
#include <stdint.h>

/// zlib's `crc32(crc, buf, len)`: the CRC-32 of `len` bytes at `buf` continuing `crc` (0 to start). Folds 64 bytes
/// at a time with PCLMULQDQ when the CPU has it (checked once), and leaves short inputs and the tail to zlib.
uint32_t tusfs_crc32(uint32_t crc, const uint8_t *buf, size_t len);

/// Whether `tusfs_crc32` uses PCLMULQDQ on this CPU.
int tusfs_crc32_is_accelerated(void);

/// zlib's own `crc32` over the same bytes, for comparison in tests and benchmarks.
uint32_t tusfs_crc32_zlib(uint32_t crc, const uint8_t *buf, size_t len);

#endif
