// The integer kernel of the MiniLM encoder: int8 weights × uint8 activations with AVX-512 VNNI.
//
// Weights are quantised exactly as for the float-activation kernel (minilm_q8_gemm.c: one scale per output
// column, symmetric int8), but packed for `vpdpbusd`: each panel of 16 output columns holds groups of four inner
// positions, the four weights of column j side by side (64 bytes per group). Activations are quantised per row
// (token) at run time, asymmetrically to uint8: x ≈ s·(q − z) with s = (max − min) / 255 over the row (the
// range widened to include 0) and z the integer zero point. Then
//     Σ x·w ≈ s · s_w · (Σ q·w_q − z · Σ w_q),
// where Σ w_q, the column sum, is computed once at load. `vpdpbusd` multiplies 64 u8 × s8 pairs and adds them
// in groups of four into 16 int32 lanes without saturation (|Σ| ≤ 1536 · 255 · 127 < 2³¹), so one instruction
// does the work of 64 multiply-adds; the float kernel does 16 per FMA.
#include "minilm_kernels.h"
#include "q8_column_scale.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

int agentmemory_q8_vnni_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vnni") ? 1 : 0;
}

__attribute__((target("avx2,fma")))
void agentmemory_q8_quantize_vnni(const float *weight, size_t columns, size_t inner, int8_t *packed, float *scale,
                                  int32_t *columnSums, size_t panelBegin, size_t panelEnd) {
    const size_t innerPadded = AGENTMEMORY_VNNI_PADDED_INNER(inner);
    for (size_t p = panelBegin; p < panelEnd; p++) {
        int8_t *panel = packed + p * innerPadded * AGENTMEMORY_Q8_PANEL_WIDTH;
        for (size_t lane = 0; lane < AGENTMEMORY_Q8_PANEL_WIDTH; lane++) {
            size_t j = p * AGENTMEMORY_Q8_PANEL_WIDTH + lane;
            if (j >= columns) break;
            const float *row = weight + j * inner;
            float s = agentmemory_q8_column_scale(row, inner);
            scale[j] = s;
            float inverse = 1.0f / s;
            const __m256 inv = _mm256_set1_ps(inverse);
            const __m256 upper = _mm256_set1_ps(127.0f), lower = _mm256_set1_ps(-127.0f);
            __m256i sums = _mm256_setzero_si256();
            int8_t *out = panel + lane * 4;
            size_t i = 0;
            for (; i + 8 <= inner; i += 8) {
                __m256 q = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(row + i), inv),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                q = _mm256_min_ps(upper, _mm256_max_ps(lower, q));
                __m256i ints = _mm256_cvtps_epi32(q);
                sums = _mm256_add_epi32(sums, ints);
                // Narrow the eight values to bytes (they fit: |q| ≤ 127); inner positions i…i+3 and i+4…i+7 are
                // two groups, four bytes in each.
                __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(ints), _mm256_extracti128_si256(ints, 1));
                __m128i bytes = _mm_packs_epi16(words, words);
                int32_t first = _mm_cvtsi128_si32(bytes), second = _mm_extract_epi32(bytes, 1);
                memcpy(out + (i / 4) * 64, &first, 4);
                memcpy(out + (i / 4 + 1) * 64, &second, 4);
            }
            int32_t partial[8];
            _mm256_storeu_si256((__m256i *)partial, sums);
            int32_t sum = 0;
            for (int t = 0; t < 8; t++) sum += partial[t];
            for (; i < inner; i++) {
                float q = nearbyintf(row[i] * inverse);
                q = q > 127.0f ? 127.0f : (q < -127.0f ? -127.0f : q);
                int8_t v = (int8_t)(int32_t)q;
                out[(i / 4) * 64 + (i % 4)] = v;
                sum += v;
            }
            columnSums[j] = sum;
        }
    }
}

__attribute__((target("avx512f,avx512bw")))
void agentmemory_u8_quantize_rows(const float *a, size_t rows, size_t inner, uint8_t *q, float *rowScale,
                                  int32_t *rowZero) {
    const size_t innerPadded = AGENTMEMORY_VNNI_PADDED_INNER(inner);
    const size_t tail = inner % 16;
    const __mmask16 tailMask = (__mmask16)((1u << tail) - 1);
    for (size_t r = 0; r < rows; r++) {
        const float *x = a + r * inner;
        uint8_t *out = q + r * innerPadded;
        // Masked-off lanes load as 0, which the range includes anyway.
        __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
        size_t i = 0;
        for (; i + 16 <= inner; i += 16) {
            __m512 v = _mm512_loadu_ps(x + i);
            lo = _mm512_min_ps(lo, v);
            hi = _mm512_max_ps(hi, v);
        }
        if (tail) {
            __m512 v = _mm512_maskz_loadu_ps(tailMask, x + i);
            lo = _mm512_min_ps(lo, v);
            hi = _mm512_max_ps(hi, v);
        }
        float least = _mm512_reduce_min_ps(lo), most = _mm512_reduce_max_ps(hi);
        float s = (most - least) / 255.0f;
        if (!(s > 0)) s = 1.0f;
        float inverse = 1.0f / s;
        float zero = nearbyintf(-least * inverse);
        int32_t z = zero < 0 ? 0 : (zero > 255 ? 255 : (int32_t)zero);
        rowScale[r] = s;
        rowZero[r] = z;
        const __m512 inv = _mm512_set1_ps(inverse);
        const __m512i zv = _mm512_set1_epi32(z), floor = _mm512_setzero_si512();
        // Round to nearest even (the default rounding mode), shift by z, clamp to [0, 255] (the unsigned
        // saturating narrow does the upper bound).
        for (i = 0; i + 16 <= inner; i += 16) {
            __m512i v = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + i), inv)), zv);
            _mm512_mask_cvtusepi32_storeu_epi8(out + i, 0xFFFF, _mm512_max_epi32(v, floor));
        }
        if (tail) {
            __m512i v = _mm512_add_epi32(
                _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(tailMask, x + i), inv)), zv);
            _mm512_mask_cvtusepi32_storeu_epi8(out + i, tailMask, _mm512_max_epi32(v, floor));
        }
        // The padding meets zero weights; any value will do, keep it defined.
        if (innerPadded > inner) memset(out + inner, 0, innerPadded - inner);
    }
}

/// `rows` (1…6) quantised rows times `panels` (1…4) consecutive 16-column panels; both are constants after
/// inlining, so the 24 accumulators live in registers.
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline))
static inline void vnni_tile(const uint8_t *a, size_t lda, const float *rowScale, const int32_t *rowZero,
                             int rows, int panels, size_t groups, const int8_t *panel, size_t panelStride,
                             const float *scale, const int32_t *columnSums, const float *bias, size_t firstColumn,
                             size_t columns, float *c, size_t ldc) {
    __m512i acc[6][4];
    // Fully unrolled (the pragmas), so that the accumulators are registers, not a stack array.
#pragma clang loop unroll(full)
    for (int r = 0; r < rows; r++)
#pragma clang loop unroll(full)
        for (int p = 0; p < panels; p++) acc[r][p] = _mm512_setzero_si512();
    for (size_t g = 0; g < groups; g++) {
        __m512i w[4];
#pragma clang loop unroll(full)
        for (int p = 0; p < panels; p++) w[p] = _mm512_loadu_si512((const void *)(panel + p * panelStride + g * 64));
#pragma clang loop unroll(full)
        for (int r = 0; r < rows; r++) {
            int32_t four;
            memcpy(&four, a + r * lda + g * 4, 4);
            __m512i x = _mm512_set1_epi32(four);
#pragma clang loop unroll(full)
            for (int p = 0; p < panels; p++) acc[r][p] = _mm512_dpbusd_epi32(acc[r][p], x, w[p]);
        }
    }
#pragma clang loop unroll(full)
    for (int p = 0; p < panels; p++) {
        size_t column = firstColumn + (size_t)p * AGENTMEMORY_Q8_PANEL_WIDTH;
        size_t width = columns - column < AGENTMEMORY_Q8_PANEL_WIDTH ? columns - column : AGENTMEMORY_Q8_PANEL_WIDTH;
        __mmask16 mask = (__mmask16)((1u << width) - 1);
        __m512 s = _mm512_maskz_loadu_ps(mask, scale + column);
        __m512 b = _mm512_maskz_loadu_ps(mask, bias + column);
        __m512i sums = _mm512_maskz_loadu_epi32(mask, columnSums + column);
#pragma clang loop unroll(full)
        for (int r = 0; r < rows; r++) {
            __m512i exact = _mm512_sub_epi32(acc[r][p], _mm512_mullo_epi32(sums, _mm512_set1_epi32(rowZero[r])));
            __m512 rowScaled = _mm512_mul_ps(s, _mm512_set1_ps(rowScale[r]));
            _mm512_mask_storeu_ps(c + r * ldc + column, mask,
                                  _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), rowScaled, b));
        }
    }
}

#define VNNI_TILE(ROWS, PANELS) \
    vnni_tile(ar, innerPadded, rowScale + r, rowZero + r, ROWS, PANELS, groups, panel, panelStride, scale, \
              columnSums, bias, column, columns, cr, ldc)

#define VNNI_ROWS(PANELS) \
    do { \
        size_t r = blockStart; \
        for (; r + 6 <= blockEnd; r += 6) { \
            const uint8_t *ar = a + r * innerPadded; float *cr = c + r * ldc; VNNI_TILE(6, PANELS); \
        } \
        const uint8_t *ar = a + r * innerPadded; float *cr = c + r * ldc; \
        switch (blockEnd - r) { \
        case 5: VNNI_TILE(5, PANELS); break; \
        case 4: VNNI_TILE(4, PANELS); break; \
        case 3: VNNI_TILE(3, PANELS); break; \
        case 2: VNNI_TILE(2, PANELS); break; \
        case 1: VNNI_TILE(1, PANELS); break; \
        default: break; \
        } \
    } while (0)

__attribute__((target("avx512f,avx512bw,avx512vnni")))
void agentmemory_q8_vnni_gemm(const uint8_t *a, const float *rowScale, const int32_t *rowZero, size_t rows,
                              size_t inner, const int8_t *packed, const float *scale, const int32_t *columnSums,
                              const float *bias, size_t columns, float *c, size_t ldc, size_t panelBegin,
                              size_t panelEnd) {
    const size_t innerPadded = AGENTMEMORY_VNNI_PADDED_INNER(inner);
    const size_t groups = innerPadded / 4;
    const size_t panelStride = innerPadded * AGENTMEMORY_Q8_PANEL_WIDTH;
    // Row blocks keep a slice of the quantised rows in L1/L2 while this thread's panels sweep over it.
    const size_t rowBlock = 48;
    for (size_t blockStart = 0; blockStart < rows; blockStart += rowBlock) {
        size_t blockEnd = blockStart + rowBlock < rows ? blockStart + rowBlock : rows;
        size_t p = panelBegin;
        for (; p + 4 <= panelEnd; p += 4) {
            const int8_t *panel = packed + p * panelStride;
            size_t column = p * AGENTMEMORY_Q8_PANEL_WIDTH;
            VNNI_ROWS(4);
        }
        const int8_t *panel = packed + p * panelStride;
        size_t column = p * AGENTMEMORY_Q8_PANEL_WIDTH;
        switch (panelEnd - p) {
        case 3: VNNI_ROWS(3); break;
        case 2: VNNI_ROWS(2); break;
        case 1: VNNI_ROWS(1); break;
        default: break;
        }
    }
}

#else

int agentmemory_q8_vnni_available(void) { return 0; }

void agentmemory_q8_quantize_vnni(const float *weight, size_t columns, size_t inner, int8_t *packed, float *scale,
                                  int32_t *columnSums, size_t panelBegin, size_t panelEnd) {
    (void)weight; (void)columns; (void)inner; (void)packed; (void)scale; (void)columnSums; (void)panelBegin;
    (void)panelEnd;
}

void agentmemory_u8_quantize_rows(const float *a, size_t rows, size_t inner, uint8_t *q, float *rowScale,
                                  int32_t *rowZero) {
    (void)a; (void)rows; (void)inner; (void)q; (void)rowScale; (void)rowZero;
}

void agentmemory_q8_vnni_gemm(const uint8_t *a, const float *rowScale, const int32_t *rowZero, size_t rows,
                              size_t inner, const int8_t *packed, const float *scale, const int32_t *columnSums,
                              const float *bias, size_t columns, float *c, size_t ldc, size_t panelBegin,
                              size_t panelEnd) {
    (void)a; (void)rowScale; (void)rowZero; (void)rows; (void)inner; (void)packed; (void)scale; (void)columnSums;
    (void)bias; (void)columns; (void)c; (void)ldc; (void)panelBegin; (void)panelEnd;
}

#endif
