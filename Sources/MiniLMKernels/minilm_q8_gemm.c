// The int8-weight kernel of the MiniLM encoder. Swift has no intrinsics, so this one loop nest is C; packing,
// quantisation, threading and the fallback live in ModelClients/MiniLM/QuantizedGEMM.swift.
//
// Weight-only quantisation: activations stay float, each weight is an int8 with one float scale per output
// column. A single query (~17 tokens) streams all ~10.6 M encoder weights once per pass; as int8 they are a
// quarter of the float bytes and fit the last-level cache, and widening 16 of them to floats costs four
// instructions for twelve FMAs.
#include "minilm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

int agentmemory_q8_kernel_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
}

/// `rows` (1…6, a constant after inlining) rows of A times one 16-column panel.
__attribute__((target("avx2,fma"), always_inline))
static inline void tile(const float *a, size_t lda, int rows, size_t inner, const int8_t *panel,
                        const float *scale, const float *bias, float *c, size_t ldc, size_t width) {
    __m256 acc[6][2];
    for (int r = 0; r < rows; r++) { acc[r][0] = _mm256_setzero_ps(); acc[r][1] = _mm256_setzero_ps(); }
    for (size_t i = 0; i < inner; i++) {
        __m128i bytes = _mm_loadu_si128((const __m128i *)(panel + i * AGENTMEMORY_Q8_PANEL_WIDTH));
        __m256 w0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
        __m256 w1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(bytes, 8)));
        for (int r = 0; r < rows; r++) {
            __m256 x = _mm256_broadcast_ss(a + r * lda + i);
            acc[r][0] = _mm256_fmadd_ps(w0, x, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(w1, x, acc[r][1]);
        }
    }
    if (width == AGENTMEMORY_Q8_PANEL_WIDTH) {
        __m256 s0 = _mm256_loadu_ps(scale), s1 = _mm256_loadu_ps(scale + 8);
        __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
        for (int r = 0; r < rows; r++) {
            _mm256_storeu_ps(c + r * ldc, _mm256_fmadd_ps(acc[r][0], s0, b0));
            _mm256_storeu_ps(c + r * ldc + 8, _mm256_fmadd_ps(acc[r][1], s1, b1));
        }
    } else {
        for (int r = 0; r < rows; r++) {
            float lanes[16];
            _mm256_storeu_ps(lanes, acc[r][0]);
            _mm256_storeu_ps(lanes + 8, acc[r][1]);
            for (size_t j = 0; j < width; j++) c[r * ldc + j] = lanes[j] * scale[j] + bias[j];
        }
    }
}

__attribute__((target("avx2,fma")))
void agentmemory_q8_gemm(const float *a, size_t rows, size_t inner,
                         const int8_t *packed, const float *scale, const float *bias, size_t columns,
                         float *c, size_t ldc, size_t panelBegin, size_t panelEnd) {
    // Row blocks keep a slice of A in L1/L2 while this thread's panels sweep over it.
    const size_t rowBlock = 48;
    for (size_t blockStart = 0; blockStart < rows; blockStart += rowBlock) {
        size_t blockEnd = blockStart + rowBlock < rows ? blockStart + rowBlock : rows;
        for (size_t p = panelBegin; p < panelEnd; p++) {
            const int8_t *panel = packed + p * inner * AGENTMEMORY_Q8_PANEL_WIDTH;
            size_t column = p * AGENTMEMORY_Q8_PANEL_WIDTH;
            size_t width = columns - column < AGENTMEMORY_Q8_PANEL_WIDTH ? columns - column : AGENTMEMORY_Q8_PANEL_WIDTH;
            size_t r = blockStart;
            for (; r + 6 <= blockEnd; r += 6)
                tile(a + r * inner, inner, 6, inner, panel, scale + column, bias + column, c + r * ldc + column, ldc, width);
            const float *ar = a + r * inner;
            float *cr = c + r * ldc + column;
            switch (blockEnd - r) {
            case 5: tile(ar, inner, 5, inner, panel, scale + column, bias + column, cr, ldc, width); break;
            case 4: tile(ar, inner, 4, inner, panel, scale + column, bias + column, cr, ldc, width); break;
            case 3: tile(ar, inner, 3, inner, panel, scale + column, bias + column, cr, ldc, width); break;
            case 2: tile(ar, inner, 2, inner, panel, scale + column, bias + column, cr, ldc, width); break;
            case 1: tile(ar, inner, 1, inner, panel, scale + column, bias + column, cr, ldc, width); break;
            default: break;
            }
        }
    }
}

#else

int agentmemory_q8_kernel_available(void) { return 0; }

void agentmemory_q8_gemm(const float *a, size_t rows, size_t inner,
                         const int8_t *packed, const float *scale, const float *bias, size_t columns,
                         float *c, size_t ldc, size_t panelBegin, size_t panelEnd) {
    (void)a; (void)rows; (void)inner; (void)packed; (void)scale; (void)bias; (void)columns; (void)c; (void)ldc;
    (void)panelBegin; (void)panelEnd;
}

#endif
