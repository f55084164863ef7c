#ifndef AGENTMEMORY_VECTOR_KERNELS_H
#define AGENTMEMORY_VECTOR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// The int8 scan's inner product for `count` rows: `out[k] = Σ_j rows[k][j] · query[j]` over `dimension`
/// components (int8 codes times the query's int8 codes widened to int16, summed exactly in int32).
/// On x86-64 it uses AVX2 (`vpmovsxbw` + `vpmaddwd` on 256-bit registers); callers run only on CPUs the
/// handlers' startup check admitted (x86-64-v3), like the Swift targets compiled for `haswell`.
void agentmemory_int8_dots(const int8_t *const *rows, size_t count, const int16_t *query, size_t dimension,
                           int32_t *out);

/// The rescoring's exact cosine before the row's scale: `Σ_j (float)codes[j] · query[j]`, with exactly the float
/// operations of the Swift `SIMD16<Float>` loop it replaces (so scores are bit for bit the same): 16 lane sums
/// `lane[k] += code · query` (multiply, then add; never fused), the lanes added in order 0…15 to -0.0, then the
/// remaining `dimension mod 16` products added one by one.
float agentmemory_int8_float_dot(const int8_t *codes, const float *query, size_t dimension);

#endif
