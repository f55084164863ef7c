// The int8 vector scan's dot products. Swift has no intrinsics, and LLVM's loop vectoriser turns the plain
// Swift loop into 128-bit `vpmaddwd` only (8 multiply-adds per instruction); this kernel uses the 256-bit form
// (16 per instruction). Integer arithmetic: the sums are exact, so results equal the Swift loop's bit for bit.
#include "vector_kernels.h"

// The float kernel must round every product and every sum as the Swift code it replaces did: no fused
// multiply-add.
#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static inline int32_t dot_avx2(const int8_t *row, const int16_t *query, size_t dimension) {
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    size_t j = 0;
    for (; j + 32 <= dimension; j += 32) {
        __m256i c0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(row + j)));
        __m256i c1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(row + j + 16)));
        acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(c0, _mm256_loadu_si256((const __m256i *)(query + j))));
        acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(c1, _mm256_loadu_si256((const __m256i *)(query + j + 16))));
    }
    for (; j + 16 <= dimension; j += 16) {
        __m256i c = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(row + j)));
        acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(c, _mm256_loadu_si256((const __m256i *)(query + j))));
    }
    __m256i acc = _mm256_add_epi32(acc0, acc1);
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    int32_t sum = _mm_cvtsi128_si32(s);
    for (; j < dimension; j++) sum += (int32_t)row[j] * (int32_t)query[j];
    return sum;
}

__attribute__((target("avx2")))
void agentmemory_int8_dots(const int8_t *const *rows, size_t count, const int16_t *query, size_t dimension,
                           int32_t *out) {
    for (size_t k = 0; k < count; k++) out[k] = dot_avx2(rows[k], query, dimension);
}

__attribute__((target("avx2")))
float agentmemory_int8_float_dot(const int8_t *codes, const float *query, size_t dimension) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= dimension; j += 16) {
        __m128i c = _mm_loadu_si128((const __m128i *)(codes + j));
        __m256 clo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(c));
        __m256 chi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(c, 8)));
        lo = _mm256_add_ps(lo, _mm256_mul_ps(clo, _mm256_loadu_ps(query + j)));
        hi = _mm256_add_ps(hi, _mm256_mul_ps(chi, _mm256_loadu_ps(query + j + 8)));
    }
    float lanes[16];
    _mm256_storeu_ps(lanes, lo);
    _mm256_storeu_ps(lanes + 8, hi);
    float sum = -0.0f;
    for (int k = 0; k < 16; k++) sum += lanes[k];
    for (; j < dimension; j++) sum += (float)codes[j] * query[j];
    return sum;
}

#else

void agentmemory_int8_dots(const int8_t *const *rows, size_t count, const int16_t *query, size_t dimension,
                           int32_t *out) {
    for (size_t k = 0; k < count; k++) {
        int32_t sum = 0;
        for (size_t j = 0; j < dimension; j++) sum += (int32_t)rows[k][j] * (int32_t)query[j];
        out[k] = sum;
    }
}

float agentmemory_int8_float_dot(const int8_t *codes, const float *query, size_t dimension) {
    float lanes[16] = {0};
    size_t j = 0;
    for (; j + 16 <= dimension; j += 16) {
        for (int k = 0; k < 16; k++) lanes[k] += (float)codes[j + k] * query[j + k];
    }
    float sum = -0.0f;
    for (int k = 0; k < 16; k++) sum += lanes[k];
    for (; j < dimension; j++) sum += (float)codes[j] * query[j];
    return sum;
}

#endif
