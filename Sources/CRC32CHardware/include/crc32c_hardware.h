#ifndef AGENTMEMORY_CRC32C_HARDWARE_H
#define AGENTMEMORY_CRC32C_HARDWARE_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the SSE4.2 `crc32` instruction (x86-64), else 0.
int agentmemory_crc32c_hardware_available(void);

/// Continues a CRC-32C over `count` bytes with the `crc32` instruction. `crc` and the result are the
/// inverted running register, as in `~CRC32C.update(...)`: pass `~previous`, invert the result.
/// Only call when `agentmemory_crc32c_hardware_available()` returned 1.
uint32_t agentmemory_crc32c_hardware_update(uint32_t crc, const uint8_t *bytes, size_t count);

#endif
