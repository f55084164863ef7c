// Int8-weight matrix multiplies for the in-process MiniLM encoder (ModelClients/MiniLM/Int8GEMM.swift: float
// activations, AVX2; Int8VNNIGEMM.swift: uint8 activations, AVX-512 VNNI).
#ifndef AGENTMEMORY_MINILM_KERNELS_H
#define AGENTMEMORY_MINILM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Output columns per packed weight panel.
#define AGENTMEMORY_Q8_PANEL_WIDTH 16

/// 1 if the CPU has AVX2 and FMA (the kernel's requirement), else 0.
int agentmemory_q8_kernel_available(void);

/// c[rows × columns] = (a[rows × inner] · Wᵀ) · scale + bias for the panels [panelBegin, panelEnd).
/// `packed` holds W (int8, `[columns, inner]` before packing) as panels of 16 output columns, each `inner × 16`
/// bytes (column j of a panel row is output feature panel·16 + j, zero past `columns`); `scale` and `bias`
/// have one entry per output column. `ldc` is the row stride of c. Requires agentmemory_q8_kernel_available().
void agentmemory_q8_gemm(const float *a, size_t rows, size_t inner,
                         const int8_t *packed, const float *scale, const float *bias, size_t columns,
                         float *c, size_t ldc, size_t panelBegin, size_t panelEnd);

/// Quantises `weight[columns × inner]` (row-major, one row per output column) into the panels [panelBegin,
/// panelEnd) of `packed` (layout as for agentmemory_q8_gemm; bytes past `columns` are left as they are) and
/// `scale` (one per column): scale = max|w| / 127 (1 for a zero row), q = clamp(round-half-even(w · (1 / scale))).
/// Requires agentmemory_q8_kernel_available().
void agentmemory_q8_quantize(const float *weight, size_t columns, size_t inner, int8_t *packed, float *scale,
                             size_t panelBegin, size_t panelEnd);

/// Inner positions per `vpdpbusd` group; the VNNI layout pads the inner dimension to a multiple of it.
#define AGENTMEMORY_VNNI_GROUP 4
#define AGENTMEMORY_VNNI_PADDED_INNER(inner) (((inner) + 3) / 4 * 4)

/// 1 if the CPU (and OS) support AVX-512 F, BW and VNNI (the integer kernel's requirement), else 0.
int agentmemory_q8_vnni_available(void);

/// Quantises `weight[columns × inner]` like agentmemory_q8_quantize (same scale, same int8 values) into the
/// VNNI layout: panels of 16 output columns, each `padded(inner) × 16` bytes, made of groups of 4 inner
/// positions, 64 bytes a group (bytes 4j…4j+3 are column j's four weights); padding and columns past `columns`
/// are left as they are (zero them first). Also writes `columnSums[j]` = Σ of column j's int8 weights.
/// Requires agentmemory_q8_kernel_available().
void agentmemory_q8_quantize_vnni(const float *weight, size_t columns, size_t inner, int8_t *packed, float *scale,
                                  int32_t *columnSums, size_t panelBegin, size_t panelEnd);

/// Quantises each row of `a[rows × inner]` to uint8, `q[rows × padded(inner)]`: x ≈ rowScale · (q − rowZero),
/// rowScale = (max − min) / 255 over the row with the range widened to include 0 (1 for an all-zero row),
/// rowZero = round(−min / rowScale), q = clamp(round-half-even(x / rowScale) + rowZero, 0, 255); padding is 0.
/// Requires agentmemory_q8_vnni_available().
void agentmemory_u8_quantize_rows(const float *a, size_t rows, size_t inner, uint8_t *q, float *rowScale,
                                  int32_t *rowZero);

/// c[rows × columns] = rowScale · scale · (q · W_qᵀ − rowZero · columnSums) + bias for the panels [panelBegin,
/// panelEnd): `q`, `rowScale`, `rowZero` from agentmemory_u8_quantize_rows, `packed`, `scale`, `columnSums` from
/// agentmemory_q8_quantize_vnni. `ldc` is the row stride of c. Requires agentmemory_q8_vnni_available().
void agentmemory_q8_vnni_gemm(const uint8_t *q, const float *rowScale, const int32_t *rowZero, size_t rows,
                              size_t inner, const int8_t *packed, const float *scale, const int32_t *columnSums,
                              const float *bias, size_t columns, float *c, size_t ldc, size_t panelBegin,
                              size_t panelEnd);

#endif
