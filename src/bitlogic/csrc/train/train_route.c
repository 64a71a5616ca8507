/* Index conversion and the per-thread input-gradient buffers.
 *
 * Each thread of a backward pass owns whole neurons and adds their slot
 * gradients into its own (in_dim, batch) buffer: thread 0 into dx^T, the
 * others into scratch. bl_route_end sums the buffers row-parallel. The first
 * version wrote one row per slot and summed them per input feature from a
 * CSR list (independent of the thread count, but a round trip of
 * rank * out * batch floats through memory); this replaced it after
 * measuring 2.67 -> 2.07 ms for a rank-6 784 -> 2000 layer (forward +
 * backward, 1 thread; benchmarks/README.md).
 *
 * An exclusive routing (every input read by exactly one slot: the upper
 * levels of a convolution's trees) needs neither: each row of dx^T is
 * written once, by the thread that owns its reader, so all threads store
 * straight into dx^T. For cifar10-s's first block that skips zeroing and
 * summing two 52 MB buffers per backward.
 */
#include <omp.h>
#include <string.h>

#include "train_layer.h"
#include "train_vec.h"

/* Copy int64 indices to int32, checking 0 <= v < bound. Returns -1 when all
 * are valid, else the position of the first invalid one (written as 0). */
int64_t bl_index_to_i32(const int64_t *src, int64_t n, int64_t bound, int32_t *dst) {
    int64_t bad = -1;
    for (int64_t i = 0; i < n; i++) {
        const int64_t v = src[i];
        const int ok = v >= 0 && v < bound;
        if (!ok && bad < 0) bad = i;
        dst[i] = ok ? (int32_t)v : 0;
    }
    return bad;
}

/* Called by every thread at the start of a backward parallel region: the
 * thread's zeroed input-gradient buffer, or NULL when dx is not wanted. */
float *bl_route_begin(const bl_layer *L, const bl_route *route) {
    if (!route->dxT) return NULL;
    if (route->exclusive) return route->dxT; /* every row is stored once: nothing to zero */
    const int64_t size = L->in_dim * L->batch;
    const int tid = omp_get_thread_num();
    float *buf = tid == 0 ? route->dxT : route->scratch + (int64_t)(tid - 1) * size;
    memset(buf, 0, (size_t)size * sizeof(float));
    return buf;
}

/* Called by every thread at the end of the region: dx^T += the other
 * threads' buffers, in thread order. */
void bl_route_end(const bl_layer *L, const bl_route *route) {
    const int threads = omp_get_num_threads();
    if (!route->dxT || threads == 1 || route->exclusive) return;
    const int64_t B = L->batch, size = L->in_dim * B;
#pragma omp barrier
#pragma omp for schedule(static)
    for (int64_t i = 0; i < L->in_dim; i++) {
        float *dst = route->dxT + i * B;
        for (int64_t b = 0; b < B; b += BL_VL) {
            const int m = B - b < BL_VL ? (int)(B - b) : BL_VL;
            v16f sum = bl_load(dst + b, m);
            for (int t = 1; t < threads; t++)
                sum += bl_load(route->scratch + (int64_t)(t - 1) * size + i * B + b, m);
            bl_store(dst + b, sum, m);
        }
    }
}
