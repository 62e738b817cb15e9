/* Several threads for a large layer (Linux boards, `edgenn generate --threads N`): the layer's
 * output rows split into N contiguous shares, one per thread, the calling thread taking the first.
 * Every output byte is computed exactly as on one thread, so the results are the same bytes.
 * ENN_THREADS (the generated Makefile's -DENN_THREADS=N, with -pthread) is 1 without the option:
 * then nothing here is compiled in. Microcontroller builds never set it. */
#ifndef EDGENN_THREADS_H
#define EDGENN_THREADS_H

#include "edgenn_prefix.h"

#include <stddef.h>
#include <stdint.h>

#ifndef ENN_THREADS
#define ENN_THREADS 1
#endif

/* Whether byte ranges [a, a + na) and [b, b + nb) share a byte. */
static inline int enn_overlap(const void *a, size_t na, const void *b, size_t nb)
{
    const uintptr_t pa = (uintptr_t)a;
    const uintptr_t pb = (uintptr_t)b;
    return pa < pb + nb && pb < pa + na;
}

#if ENN_THREADS > 1
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#error "ENN_THREADS is for Linux boards (pthreads), not microcontrollers"
#endif

/* Layers of fewer MACs stay on one thread: waking the others costs more than their share saves. */
#ifndef ENN_PARALLEL_MACS
#define ENN_PARALLEL_MACS 65536
#endif

/* fn(ctx, r0, r1) for [r0, r1) covering [0, rows) in ENN_THREADS shares, the first on the calling
 * thread, the others on a pool of ENN_THREADS - 1 threads started at the first call; returns when
 * all are done. If the pool cannot be started, the calling thread does every share. */
typedef void (*enn_rows_fn)(void *ctx, int32_t r0, int32_t r1);
void enn_parallel_rows(enn_rows_fn fn, void *ctx, int32_t rows);
#endif

#endif
