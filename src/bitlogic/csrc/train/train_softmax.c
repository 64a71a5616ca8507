/* Column-wise argmax and softmax over the selection logits of dense
 * learnable routing (every input a candidate for every slot).
 *
 * The logits z are (rows = in_dim, cols = rank * out) row-major, and every
 * reduction runs down a column. Reducing down a column directly reads one
 * cache line per row at a stride of cols * 4 bytes, which defeats the
 * prefetchers (torch.softmax(dim=0) on 2352 x 12000 took 350 ms on 2 cores).
 * Instead each thread owns a contiguous range of columns, streams the rows
 * in order and keeps its per-column accumulators in cache.
 *
 * The forward needs only the argmax; the backward recovers each column's
 * maximum from it, so a softmax costs two streaming passes.
 */
#include <math.h>
#include <omp.h>

#include "train_vec.h"

/* Columns [*c0, *c1) of this thread, in whole vectors. */
static void bl_column_range(int64_t cols, int64_t *c0, int64_t *c1) {
    const int64_t vectors = (cols + BL_VL - 1) / BL_VL;
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    *c0 = vectors * t / n * BL_VL;
    *c1 = vectors * (t + 1) / n * BL_VL;
    if (*c1 > cols) *c1 = cols;
}

BL_AI int bl_lanes(int64_t c, int64_t c1) { return c1 - c < BL_VL ? (int)(c1 - c) : BL_VL; }

/* exp(x) for x <= 0; 0 below -87 (where float32 exp turns subnormal).
 * Cody-Waite reduction x = k ln2 + r, |r| <= ln2 / 2, then the Cephes expf
 * polynomial for exp(r) (relative error about 1e-7). The softmaxes built on
 * it agree with torch.softmax to 2e-6 (tests/kernels/test_dense_routing.py). */
BL_AI v16f bl_exp_nonpositive(v16f x) {
    const v16i tiny = x < -87.0f;
    x = bl_select(tiny, (v16f){0} - 87.0f, x);
    const v16f shifter = (v16f){0} + 12582912.0f; /* 1.5 * 2^23: round to nearest */
    const v16f k = (x * 1.44269504088896341f + shifter) - shifter;
    const v16f r = (x - k * 0.693359375f) - k * -2.12194440e-4f;
    v16f p = r * 1.9875691500e-4f + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    const v16i bits = (__builtin_convertvector(k, v16i) + 127) << 23;
    return bl_select(tiny, (v16f){0}, p * (v16f)bits);
}

/* out[c] = argmax_r z[r, c] (the first maximum; a NaN counts as the maximum,
 * as in torch.argmax). */
void bl_column_argmax(const float *z, int64_t rows, int64_t cols, int64_t *out, float *best,
                      int32_t *arg, int nthreads) {
#pragma omp parallel num_threads(nthreads)
    {
        int64_t c0, c1;
        bl_column_range(cols, &c0, &c1);
        for (int64_t c = c0; c < c1; c += BL_VL) {
            const int m = bl_lanes(c, c1);
            bl_store(best + c, bl_load(z + c, m), m);
            memset(arg + c, 0, (size_t)m * sizeof(int32_t));
        }
        for (int64_t r = 1; r < rows; r++) {
            const float *row = z + r * cols;
            for (int64_t c = c0; c < c1; c += BL_VL) {
                const int m = bl_lanes(c, c1);
                const v16f v = bl_load(row + c, m), b = bl_load(best + c, m);
                const v16i take = (v > b) | ((v != v) & (b == b));
                v16i a;
                memcpy(&a, arg + c, sizeof a);
                a = (take & (v16i){0} + (int32_t)r) | (~take & a);
                bl_store(best + c, bl_select(take, v, b), m);
                memcpy(arg + c, &a, (size_t)m * sizeof(int32_t));
            }
        }
        for (int64_t c = c0; c < c1; c++) out[c] = arg[c];
    }
}

/* The column maxima z[argmax[c], c], into mx. */
static void bl_gather_max(const float *z, const int64_t *argmax, int64_t cols, float *mx,
                          int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++) mx[c] = z[argmax[c] * cols + c];
}

/* Pass over the rows: sum[c] = sum_r e[r, c] and, with dp, dot[c] = sum_r e dp,
 * where e = exp((z - max) / t). */
static void bl_column_sums(const float *z, const float *dp, int64_t rows, int64_t cols,
                           float inv_t, const float *mx, float *sum, float *dot, int64_t c0,
                           int64_t c1) {
    for (int64_t c = c0; c < c1; c += BL_VL) {
        const int m = bl_lanes(c, c1);
        bl_store(sum + c, (v16f){0}, m);
        if (dp) bl_store(dot + c, (v16f){0}, m);
    }
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = c0; c < c1; c += BL_VL) {
            const int m = bl_lanes(c, c1);
            const v16f e = bl_exp_nonpositive((bl_load(z + r * cols + c, m)
                                               - bl_load(mx + c, m)) * inv_t);
            bl_store(sum + c, bl_load(sum + c, m) + e, m);
            if (dp) bl_store(dot + c, bl_fma(e, bl_load(dp + r * cols + c, m),
                                             bl_load(dot + c, m)), m);
        }
    }
}

/* probs = softmax(z / t) down every column. scratch: 3 * cols floats. */
void bl_column_softmax(const float *z, const int64_t *argmax, int64_t rows, int64_t cols,
                       float inv_t, float *probs, float *scratch, int nthreads) {
    float *mx = scratch, *sum = scratch + cols;
#pragma omp parallel num_threads(nthreads)
    {
        int64_t c0, c1;
        bl_column_range(cols, &c0, &c1);
        bl_gather_max(z, argmax, cols, mx, c0, c1);
        bl_column_sums(z, NULL, rows, cols, inv_t, mx, sum, NULL, c0, c1);
        for (int64_t c = c0; c < c1; c++) sum[c] = 1.0f / sum[c];
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t c = c0; c < c1; c += BL_VL) {
                const int m = bl_lanes(c, c1);
                const int64_t at = r * cols + c;
                const v16f e = bl_exp_nonpositive((bl_load(z + at, m) - bl_load(mx + c, m))
                                                  * inv_t);
                bl_store(probs + at, e * bl_load(sum + c, m), m);
            }
        }
    }
}

/* Backward of probs = softmax(z / t) down every column:
 * dz = probs * (dprobs - sum_r probs * dprobs) / t. dz may alias dprobs.
 * scratch: 3 * cols floats. */
void bl_column_softmax_backward(const float *z, const int64_t *argmax, const float *dprobs,
                                int64_t rows, int64_t cols, float inv_t, float *dz,
                                float *scratch, int nthreads) {
    float *mx = scratch, *sum = scratch + cols, *dot = scratch + 2 * cols;
#pragma omp parallel num_threads(nthreads)
    {
        int64_t c0, c1;
        bl_column_range(cols, &c0, &c1);
        bl_gather_max(z, argmax, cols, mx, c0, c1);
        bl_column_sums(z, dprobs, rows, cols, inv_t, mx, sum, dot, c0, c1);
        for (int64_t c = c0; c < c1; c++) {
            dot[c] /= sum[c];       /* the probability-weighted mean of dprobs */
            sum[c] = inv_t / sum[c];
        }
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t c = c0; c < c1; c += BL_VL) {
                const int m = bl_lanes(c, c1);
                const int64_t at = r * cols + c;
                const v16f e = bl_exp_nonpositive((bl_load(z + at, m) - bl_load(mx + c, m))
                                                  * inv_t);
                const v16f g = bl_load(dprobs + at, m) - bl_load(dot + c, m);
                bl_store(dz + at, e * bl_load(sum + c, m) * g, m);
            }
        }
    }
}
