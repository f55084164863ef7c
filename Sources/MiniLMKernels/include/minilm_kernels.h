// Int8-weight matrix multiply for the in-process MiniLM encoder (ModelClients/MiniLM/QuantizedGEMM.swift).
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

#endif
