/* Iteration over a reduction (mean / sum, reduce_max_min): the input's axes, innermost first, are
 * merged into groups of adjacent kept or adjacent reduced axes (extent-1 axes dropped), so that a
 * global pool over NHWC is one kept group (C) and one reduced group (H * W, stride C). Outputs
 * come in input order without the reduced axes; for each, the reduced elements are visited as a
 * strided run (the innermost reduced group) per position of the outer reduced groups. */
#ifndef EDGENN_REDUCE_H
#define EDGENN_REDUCE_H

#include "edgenn_prefix.h"

#include <stdint.h>

#define ENN_REDUCE_MAX_RANK 8

typedef struct {
    int32_t nk, nr;                                            /* kept / reduced groups */
    int32_t kd[ENN_REDUCE_MAX_RANK], ks[ENN_REDUCE_MAX_RANK]; /* kept groups: extent, input stride */
    int32_t rd[ENN_REDUCE_MAX_RANK], rs[ENN_REDUCE_MAX_RANK]; /* reduced groups: extent, stride */
    int32_t ki[ENN_REDUCE_MAX_RANK], ri[ENN_REDUCE_MAX_RANK]; /* positions in the groups */
    int32_t count;                                             /* reduced elements per output */
    int32_t num_out;                                           /* outputs */
    int32_t inner, inner_stride; /* the innermost reduced group: a strided run per position */
    int32_t base;                /* input offset of the current output's first element */
} enn_reduce_plan;

/* The plan of an input of `rank` extents `dims` reduced over the axes whose bit is set in `mask`. */
static inline void enn_reduce_plan_init(enn_reduce_plan *p, int32_t rank, const int32_t *dims, uint32_t mask)
{
    int32_t stride = 1;
    int last = -1; /* kind of the last group: 0 kept, 1 reduced */
    int32_t i;
    p->nk = 0;
    p->nr = 0;
    p->count = 1;
    p->num_out = 1;
    p->base = 0;
    for (i = 0; i < ENN_REDUCE_MAX_RANK; i++) {
        p->ki[i] = 0;
        p->ri[i] = 0;
    }
    for (i = rank - 1; i >= 0; i--) {
        const int32_t d = dims[i];
        const int red = (int)((mask >> i) & 1u);
        if (d != 1) {
            if (red) {
                if (last == 1) {
                    p->rd[p->nr - 1] *= d;
                } else {
                    p->rd[p->nr] = d;
                    p->rs[p->nr] = stride;
                    p->nr++;
                }
                p->count *= d;
            } else {
                if (last == 0) {
                    p->kd[p->nk - 1] *= d;
                } else {
                    p->kd[p->nk] = d;
                    p->ks[p->nk] = stride;
                    p->nk++;
                }
                p->num_out *= d;
            }
            last = red;
        }
        stride *= d;
    }
    p->inner = p->nr > 0 ? p->rd[0] : 1;
    p->inner_stride = p->nr > 0 ? p->rs[0] : 0;
}

/* Advance the odometer idx over groups first..n-1 (extents dim, strides stride), moving *off
 * along; 1 while positions remain, 0 once it wrapped around (idx is all zeros again). */
static inline int enn_reduce_next(int32_t *idx, const int32_t *dim, const int32_t *stride, int32_t first,
                                  int32_t n, int32_t *off)
{
    int32_t g;
    for (g = first; g < n; g++) {
        *off += stride[g];
        if (++idx[g] < dim[g]) {
            return 1;
        }
        *off -= stride[g] * dim[g];
        idx[g] = 0;
    }
    return 0;
}

/* The next strided run of the current output (*off: its first input offset); 0 after the last. */
static inline int enn_reduce_next_run(enn_reduce_plan *p, int32_t *off)
{
    return enn_reduce_next(p->ri, p->rd, p->rs, 1, p->nr, off);
}

/* On to the next output (p->base). */
static inline void enn_reduce_next_output(enn_reduce_plan *p)
{
    (void)enn_reduce_next(p->ki, p->kd, p->ks, 0, p->nk, &p->base);
}

#endif /* EDGENN_REDUCE_H */
