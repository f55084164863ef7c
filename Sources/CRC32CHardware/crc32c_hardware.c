// CRC-32C with the SSE4.2 `crc32` instruction: about 8 bytes per cycle-triplet, 5–10× the table-driven Swift
// code, which matters when a 60 MB snapshot is verified on every partition open. Swift has no intrinsics, so
// this one function is C. Everything else (the table fallback, the API) is in MemoryStorage/Codec/CRC32C.swift.
#include "crc32c_hardware.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#include <string.h>

int agentmemory_crc32c_hardware_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

__attribute__((target("sse4.2")))
uint32_t agentmemory_crc32c_hardware_update(uint32_t crc, const uint8_t *bytes, size_t count) {
    uint64_t c = crc;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        c = _mm_crc32_u64(c, word);
        bytes += 8;
        count -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (count > 0) {
        c32 = _mm_crc32_u8(c32, *bytes);
        bytes += 1;
        count -= 1;
    }
    return c32;
}
#else
int agentmemory_crc32c_hardware_available(void) { return 0; }

uint32_t agentmemory_crc32c_hardware_update(uint32_t crc, const uint8_t *bytes, size_t count) {
    (void)bytes;
    (void)count;
    return crc;
}
#endif
