/* batch_matmul: int8 matrix product with broadcast batch axes (TFLM's BATCH_MATMUL arithmetic). */
#ifndef ENN_BATCH_MATMUL_H
#define ENN_BATCH_MATMUL_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t batch[3];      /* output batch extents (leading 1s) */
    int32_t lhs_stride[3]; /* lhs elements per step of each batch axis (0: broadcast) */
    int32_t rhs_stride[3]; /* rhs likewise */
    int32_t rows;          /* M */
    int32_t cols;          /* N */
    int32_t depth;         /* K */
    int32_t adj_x;         /* 1: lhs stored (K, M) per batch, else (M, K) */
    int32_t adj_y;         /* 1: rhs stored (N, K) per batch, else (K, N) */
    int32_t lhs_offset;    /* -lhs zero point */
    int32_t rhs_offset;    /* -rhs zero point */
    enn_quant output;      /* offset (zero point), multiplier, shift */
} enn_batch_matmul_params;

/* output: [batch...][rows][cols], written in increasing address order; never aliases an input.
 * scratch: depth * cols bytes unless adj_y, then depth * rows more if adj_x (the transposed operands). */
void enn_batch_matmul(const enn_batch_matmul_params *prm, const int8_t *lhs, const int8_t *rhs, int8_t *output,
                      int8_t *scratch);

#endif
