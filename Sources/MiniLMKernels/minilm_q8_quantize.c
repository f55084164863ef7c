// Quantisation and packing of the MiniLM dense-layer weights for the int8 kernel (minilm_q8_gemm.c). It runs
// once per process, at model load, over all ~10.6 M encoder weights, so it is on the path of a cold start's
// first answer: in C with AVX2 it takes a fraction of the Swift loop's time (Int8GEMM.quantize keeps that loop
// as the fallback and the reference). Same arithmetic, same result, bit for bit: scale = max|w| / 127 (1 for an
// all-zero row), q = clamp(round-half-even(w · (1 / scale)), -127, 127).
#include "minilm_kernels.h"
#include "q8_column_scale.h"

#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma")))
void agentmemory_q8_quantize(const float *weight, size_t columns, size_t inner, int8_t *packed, float *scale,
                             size_t panelBegin, size_t panelEnd) {
    const __m256 upper = _mm256_set1_ps(127.0f), lower = _mm256_set1_ps(-127.0f);
    for (size_t p = panelBegin; p < panelEnd; p++) {
        int8_t *panel = packed + p * inner * AGENTMEMORY_Q8_PANEL_WIDTH;
        for (size_t lane = 0; lane < AGENTMEMORY_Q8_PANEL_WIDTH; lane++) {
            size_t j = p * AGENTMEMORY_Q8_PANEL_WIDTH + lane;
            if (j >= columns) break;
            const float *row = weight + j * inner;
            float s = agentmemory_q8_column_scale(row, inner);
            scale[j] = s;
            float inverse = 1.0f / s;
            __m256 inv = _mm256_set1_ps(inverse);
            int8_t *out = panel + lane;
            size_t i = 0;
            for (; i + 8 <= inner; i += 8) {
                __m256 q = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(row + i), inv),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                q = _mm256_min_ps(upper, _mm256_max_ps(lower, q));
                int32_t ints[8];
                _mm256_storeu_si256((__m256i *)ints, _mm256_cvtps_epi32(q));
                for (int t = 0; t < 8; t++) out[(i + t) * AGENTMEMORY_Q8_PANEL_WIDTH] = (int8_t)ints[t];
            }
            for (; i < inner; i++) {
                float q = nearbyintf(row[i] * inverse);
                q = q > 127.0f ? 127.0f : (q < -127.0f ? -127.0f : q);
                out[i * AGENTMEMORY_Q8_PANEL_WIDTH] = (int8_t)(int32_t)q;
            }
        }
    }
}

#else

void agentmemory_q8_quantize(const float *weight, size_t columns, size_t inner, int8_t *packed, float *scale,
                             size_t panelBegin, size_t panelEnd) {
    (void)weight; (void)columns; (void)inner; (void)packed; (void)scale; (void)panelBegin; (void)panelEnd;
}

#endif
