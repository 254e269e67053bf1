// CRC-32 by folding with carry-less multiplication (PCLMULQDQ), after Intel's "Fast CRC Computation for Generic
// Polynomials Using PCLMULQDQ Instruction" (Gopal et al., 2009), with the constants of the reflected IEEE
// polynomial 0xEDB88320 that Linux (arch/x86/crypto/crc32-pclmul) and Chromium's zlib use too. Four 128-bit
// lanes fold 64 bytes per step; the result is folded to 128, then 64 bits, and Barrett-reduced to 32 bits.
// Debian's zlib computes about 4 GB/s here; this about 14 GB/s. Tests compare it with zlib byte for
// byte (Tests/TusServerTests/TusCoreTests.swift).
#include "crc32_fast.h"

#include <zlib.h>

#if defined(__x86_64__)
#include <immintrin.h>

// x^(4*128+32) mod P, x^(4*128-32) mod P: folding across 4 lanes (64 bytes).
static const uint64_t k1k2[2] __attribute__((aligned(16))) = {0x0154442bd4ULL, 0x01c6e41596ULL};
// x^(128+32) mod P, x^(128-32) mod P: folding one 128-bit block into the next.
static const uint64_t k3k4[2] __attribute__((aligned(16))) = {0x01751997d0ULL, 0x00ccaa009eULL};
// x^64 mod P: 64 to 32-bit fold.
static const uint64_t k5k0[2] __attribute__((aligned(16))) = {0x0163cd6124ULL, 0};
// P' (the reflected polynomial, 33 bits) and mu = floor(x^64 / P), reflected: Barrett reduction.
static const uint64_t poly_mu[2] __attribute__((aligned(16))) = {0x01db710641ULL, 0x01f7011641ULL};

/// The CRC state (not inverted) after `len` bytes; `len` >= 64 and a multiple of 16.
__attribute__((target("pclmul,sse4.1")))
static uint32_t crc32_fold(uint32_t crc, const uint8_t *buf, size_t len) {
    __m128i x0, x1, x2, x3, x4, x5, x6, x7, x8, y5, y6, y7, y8;

    x1 = _mm_loadu_si128((const __m128i *)(buf + 0x00));
    x2 = _mm_loadu_si128((const __m128i *)(buf + 0x10));
    x3 = _mm_loadu_si128((const __m128i *)(buf + 0x20));
    x4 = _mm_loadu_si128((const __m128i *)(buf + 0x30));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    x0 = _mm_load_si128((const __m128i *)k1k2);
    buf += 64;
    len -= 64;

    while (len >= 64) {
        x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
        x6 = _mm_clmulepi64_si128(x2, x0, 0x00);
        x7 = _mm_clmulepi64_si128(x3, x0, 0x00);
        x8 = _mm_clmulepi64_si128(x4, x0, 0x00);
        x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
        x2 = _mm_clmulepi64_si128(x2, x0, 0x11);
        x3 = _mm_clmulepi64_si128(x3, x0, 0x11);
        x4 = _mm_clmulepi64_si128(x4, x0, 0x11);
        y5 = _mm_loadu_si128((const __m128i *)(buf + 0x00));
        y6 = _mm_loadu_si128((const __m128i *)(buf + 0x10));
        y7 = _mm_loadu_si128((const __m128i *)(buf + 0x20));
        y8 = _mm_loadu_si128((const __m128i *)(buf + 0x30));
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), y5);
        x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), y6);
        x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), y7);
        x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), y8);
        buf += 64;
        len -= 64;
    }

    // Four lanes into one.
    x0 = _mm_load_si128((const __m128i *)k3k4);
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x3), x5);
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x4), x5);

    // Remaining 16-byte blocks.
    while (len >= 16) {
        x2 = _mm_loadu_si128((const __m128i *)buf);
        x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
        x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
        buf += 16;
        len -= 16;
    }

    // 128 to 64 bits.
    x2 = _mm_clmulepi64_si128(x1, x0, 0x10);
    x3 = _mm_setr_epi32(~0, 0, ~0, 0);
    x1 = _mm_srli_si128(x1, 8);
    x1 = _mm_xor_si128(x1, x2);
    x0 = _mm_loadl_epi64((const __m128i *)k5k0);
    x2 = _mm_srli_si128(x1, 4);
    x1 = _mm_and_si128(x1, x3);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_xor_si128(x1, x2);

    // Barrett reduction to 32 bits.
    x0 = _mm_load_si128((const __m128i *)poly_mu);
    x2 = _mm_and_si128(x1, x3);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x10);
    x2 = _mm_and_si128(x2, x3);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}

static int has_pclmul(void) {
    static int answer = -1;
    if (answer < 0) {
        __builtin_cpu_init();
        answer = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    }
    return answer;
}
#else
static int has_pclmul(void) { return 0; }
#endif

int tusfs_crc32_is_accelerated(void) { return has_pclmul(); }

uint32_t tusfs_crc32_zlib(uint32_t crc, const uint8_t *buf, size_t len) {
    while (len > 0) {
        uInt piece = len > (1u << 30) ? (1u << 30) : (uInt)len;  // zlib counts in 32 bits
        crc = (uint32_t)crc32(crc, buf, piece);
        buf += piece;
        len -= piece;
    }
    return crc;
}

uint32_t tusfs_crc32(uint32_t crc, const uint8_t *buf, size_t len) {
#if defined(__x86_64__)
    if (len >= 64 && has_pclmul()) {
        size_t bulk = len & ~(size_t)15;
        crc = ~crc32_fold(~crc, buf, bulk);
        buf += bulk;
        len -= bulk;
    }
#endif
    return tusfs_crc32_zlib(crc, buf, len);
}
