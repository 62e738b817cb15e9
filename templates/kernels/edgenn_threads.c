/* The thread pool of edgenn_threads.h: ENN_THREADS - 1 worker threads waiting on a condition
 * variable for the next job (a generation counter tells a new job from a spurious wake-up); the
 * caller runs share 0, then waits until every worker has finished its share. One job at a time:
 * a model's layers run one after the other, and the library's invoke is not reentrant anyway. */
#include "edgenn_threads.h"

#if ENN_THREADS > 1
#include <pthread.h>

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_start = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static int pool_workers;         /* workers started (0: run everything on the caller) */
static unsigned long pool_gen;   /* incremented per job */
static int pool_pending;         /* workers still running the current job */
static enn_rows_fn pool_fn;
static void *pool_ctx;
static int32_t pool_rows;

/* Share i of [0, rows): rows * i / n .. rows * (i + 1) / n. */
static void share(int i, int32_t rows, int32_t *r0, int32_t *r1)
{
    *r0 = (int32_t)((int64_t)rows * i / ENN_THREADS);
    *r1 = (int32_t)((int64_t)rows * (i + 1) / ENN_THREADS);
}

static void *worker(void *arg)
{
    const int i = (int)(intptr_t)arg;
    unsigned long seen = 0;
    for (;;) {
        enn_rows_fn fn;
        void *ctx;
        int32_t r0;
        int32_t r1;
        pthread_mutex_lock(&pool_lock);
        while (pool_gen == seen) {
            pthread_cond_wait(&pool_start, &pool_lock);
        }
        seen = pool_gen;
        fn = pool_fn;
        ctx = pool_ctx;
        share(i, pool_rows, &r0, &r1);
        pthread_mutex_unlock(&pool_lock);
        if (r0 < r1) {
            fn(ctx, r0, r1);
        }
        pthread_mutex_lock(&pool_lock);
        if (--pool_pending == 0) {
            pthread_cond_signal(&pool_done);
        }
        pthread_mutex_unlock(&pool_lock);
    }
    return 0;
}

static void pool_init(void)
{
    int i;
    for (i = 1; i < ENN_THREADS; i++) {
        pthread_t t;
        pthread_attr_t attr;
        int ok = pthread_attr_init(&attr) == 0;
        ok = ok && pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0;
        ok = ok && pthread_create(&t, &attr, worker, (void *)(intptr_t)i) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) {
            break; /* the shares of missing workers run on the caller (enn_parallel_rows) */
        }
        pool_workers = i;
    }
}

void enn_parallel_rows(enn_rows_fn fn, void *ctx, int32_t rows)
{
    int32_t r0;
    int32_t r1;
    int i;
    pthread_once(&pool_once, pool_init);
    pthread_mutex_lock(&pool_lock);
    pool_fn = fn;
    pool_ctx = ctx;
    pool_rows = rows;
    pool_pending = pool_workers;
    pool_gen++;
    pthread_cond_broadcast(&pool_start);
    pthread_mutex_unlock(&pool_lock);
    share(0, rows, &r0, &r1);
    if (r0 < r1) {
        fn(ctx, r0, r1);
    }
    /* Shares of workers that could not be started. */
    for (i = pool_workers + 1; i < ENN_THREADS; i++) {
        share(i, rows, &r0, &r1);
        if (r0 < r1) {
            fn(ctx, r0, r1);
        }
    }
    pthread_mutex_lock(&pool_lock);
    while (pool_pending > 0) {
        pthread_cond_wait(&pool_done, &pool_lock);
    }
    pthread_mutex_unlock(&pool_lock);
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int enn_threads_unused;
#endif
