// The per-column weight scale shared by both int8 packers (minilm_q8_quantize.c, minilm_q8_vnni.c), so the
// float-activation and the VNNI kernel see the same int8 weights: scale = max|w| / 127, or 1 for an all-zero
// column. Private to this target (not under include/).
#ifndef AGENTMEMORY_Q8_COLUMN_SCALE_H
#define AGENTMEMORY_Q8_COLUMN_SCALE_H

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <stddef.h>

__attribute__((target("avx2,fma"), always_inline))
static inline float agentmemory_q8_column_scale(const float *row, size_t inner) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    __m256 most = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= inner; i += 8) most = _mm256_max_ps(most, _mm256_andnot_ps(signBit, _mm256_loadu_ps(row + i)));
    float lanes[8];
    _mm256_storeu_ps(lanes, most);
    float largest = 0;
    for (int t = 0; t < 8; t++) largest = lanes[t] > largest ? lanes[t] : largest;
    for (; i < inner; i++) largest = fabsf(row[i]) > largest ? fabsf(row[i]) : largest;
    return largest > 0 ? largest / 127.0f : 1.0f;
}
#endif

#endif
