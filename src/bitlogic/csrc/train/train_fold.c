/* Fused basis fold + sigmoid sampling, forward and backward, per LUT neuron.
 *
 * One neuron reads `rank` rows of x^T and its coefficients, and produces one
 * row of y^T; no (batch, 2**rank, neurons) tensor ever exists. Three bases:
 *
 *   indicator: fold the MSB-first table one input at a time, least significant
 *              first: cur'[m] = lo + x_j * (hi - lo)   (bases.indicator_fold)
 *   Walsh:     cur'[m] = lo + (2 x_j - 1) * hi          (bases.walsh_fold)
 *   linear:    z = sum_j w_j x_j + b                    (linear.linear_logits)
 *
 * The Walsh and linear forwards perform the PyTorch reference's operations in
 * its order, so their logits round identically and hard thresholds agree bit
 * for bit. The backward recomputes the fold (with FMAs; it only feeds
 * gradients) instead of saving per-sample intermediates, keeping what the
 * reverse sweep needs in registers/L1; one sweep yields the coefficient
 * gradient and the gradient of every input slot.
 *
 * A convolution's positions share their node's coefficients (bl_layer.shared):
 * the backward walks a node's positions on one thread with one set of
 * accumulators and sums them horizontally once per node, instead of once per
 * neuron into a per-position copy that autograd then reduces.
 */
#include "train_layer.h"
#include "train_route.h"
#include "train_vec.h"

#define MAX_RANK 6
#define MAX_COEFFS 64

BL_AI int num_coeffs(const int rank, const int basis) {
    return basis == BL_BASIS_LINEAR ? rank + 1 : 1 << rank;
}

BL_AI v16f splat(float v) { return (v16f){0} + v; }

/* The forward fold. The Walsh and linear logits feed thresholds (hard
 * sampling), so they keep the reference's operations and rounding; the
 * indicator fold is never thresholded here and may fuse (at binary inputs
 * both give the table entry exactly). */
BL_AI v16f fold_forward(const int R, const int basis, const float *w, const v16f *x) {
    if (basis == BL_BASIS_LINEAR) {
        v16f z = x[0] * w[0];
        for (int j = 1; j < R; j++) z = z + x[j] * w[j];
        return z + w[R];
    }
    v16f cur[MAX_COEFFS / 2];
    const int walsh = basis == BL_BASIS_WALSH;
    for (int j = R - 1; j >= 0; j--) {
        const v16f s = 2.0f * x[j] - 1.0f;
        for (int m = 0; m < 1 << j; m++) {
            const int top = j == R - 1;
            const v16f lo = top ? splat(w[2 * m]) : cur[2 * m];
            const v16f hi = top ? splat(w[2 * m + 1]) : cur[2 * m + 1];
            cur[m] = walsh ? lo + s * hi : bl_fma(x[j], hi - lo, lo);
        }
    }
    return cur[0];
}

/* The fold again for the backward, with FMAs, keeping what the reverse sweep
 * needs: for the pair (lo, hi) folded into entry m of level j, hi - lo
 * (indicator) or hi (Walsh), at keep[2**j - 1 + m] for j < R - 1. For the top
 * level these are per-neuron constants, top[m]. Returns z. */
BL_AI v16f fold_keep(const int R, const int basis, const float *w, const float *top,
                     const v16f *x, v16f *keep) {
    if (basis == BL_BASIS_LINEAR) {
        v16f z = splat(w[R]);
        for (int j = 0; j < R; j++) z = bl_fma(x[j], splat(w[j]), z);
        return z;
    }
    const int walsh = basis == BL_BASIS_WALSH;
    v16f cur[MAX_COEFFS / 2];
    const v16f u_top = walsh ? 2.0f * x[R - 1] - 1.0f : x[R - 1];
    for (int m = 0; m < 1 << (R - 1); m++) cur[m] = bl_fma(u_top, splat(top[m]), splat(w[2 * m]));
    for (int j = R - 2; j >= 0; j--) {
        const v16f u = walsh ? 2.0f * x[j] - 1.0f : x[j];
        for (int m = 0; m < 1 << j; m++) {
            const v16f d = walsh ? cur[2 * m + 1] : cur[2 * m + 1] - cur[2 * m];
            keep[(1 << j) - 1 + m] = d;
            cur[m] = bl_fma(u, d, cur[2 * m]);
        }
    }
    return cur[0];
}

/* Reverse sweep from dz: input-slot gradients gx[j] (when want_gx),
 * coefficient gradients added to acc. Adjoints of level j are a[0 .. 2**j)
 * (expanded in place). */
BL_AI void fold_reverse(const int R, const int basis, const int want_gx, const float *w,
                        const float *top, const v16f *x, const v16f *keep, v16f dz, v16f *gx,
                        v16f *acc) {
    if (basis == BL_BASIS_LINEAR) {
        for (int j = 0; j < R; j++) {
            gx[j] = dz * w[j];
            acc[j] = bl_fma(dz, x[j], acc[j]);
        }
        acc[R] += dz;
        return;
    }
    const int walsh = basis == BL_BASIS_WALSH;
    v16f a[MAX_COEFFS / 2];
    a[0] = dz;
    for (int j = 0; j < R; j++) {
        const v16f u = walsh ? 2.0f * x[j] - 1.0f : x[j];
        v16f g = splat(0.0f);
        for (int m = (1 << j) - 1; m >= 0; m--) {
            if (want_gx) {
                const v16f d = j == R - 1 ? splat(top[m]) : keep[(1 << j) - 1 + m];
                g = bl_fma(a[m], d, g);
            }
            const v16f hi = a[m] * u, lo = walsh ? a[m] : a[m] - hi;
            if (j == R - 1) {
                acc[2 * m + 1] += hi;
                acc[2 * m] += lo;
            } else {
                a[2 * m + 1] = hi;
                a[2 * m] = lo;
            }
        }
        gx[j] = walsh ? g * 2.0f : g;
    }
}

/* sample_sigmoid's forward value. The threshold of Bernoulli `hard` divides
 * by t exactly as the reference does; the sigmoids may scale by 1/t. */
BL_AI v16f sample_forward(int mode, v16f z, v16f noise, float t, float inv_t) {
    const v16f zero = splat(0.0f);
    switch (mode) {
    case BL_SAMPLE_SOFT: return bl_sigmoid(z * inv_t);
    case BL_SAMPLE_HARD: return bl_mask01(z > zero);
    case BL_SAMPLE_HARD_BERNOULLI: return bl_mask01(z / t + noise > zero);
    case BL_SAMPLE_GUMBEL_SOFT: return bl_sigmoid((z + noise) * inv_t);
    case BL_SAMPLE_GUMBEL_HARD: return bl_mask01(z + noise > zero);
    default: return z;
    }
}

/* d loss / d z; the hard modes take the gradient of their soft relaxation
 * (straight-through), as sampling.straight_through does. */
BL_AI v16f sample_backward(int mode, v16f z, v16f noise, v16f dy, float inv_t) {
    if (mode == BL_SAMPLE_NONE) return dy;
    const int gumbel = mode == BL_SAMPLE_GUMBEL_SOFT || mode == BL_SAMPLE_GUMBEL_HARD;
    const v16f s = bl_sigmoid((gumbel ? z + noise : z) * inv_t);
    return dy * (1.0f - s) * s * inv_t;
}

BL_AI void neuron_forward(const int R, const int basis, const bl_layer *L, int64_t n,
                          int64_t b0, int64_t b1, float *yT) {
    const int64_t B = L->batch, N = L->out_dim;
    const int nc = num_coeffs(R, basis);
    float w[MAX_COEFFS];
    memcpy(w, L->coeffs + n / L->shared * nc, (size_t)nc * sizeof(float));
    const float *xr[MAX_RANK];
    for (int j = 0; j < R; j++) xr[j] = L->xT + (int64_t)L->idx[j * N + n] * B;
    const float *noise = L->noiseT ? L->noiseT + n * B : NULL;
    const float t = L->temperature, inv_t = 1.0f / t;
    for (int64_t b = b0; b < b1; b += BL_VL) {
        const int m = b1 - b < BL_VL ? (int)(b1 - b) : BL_VL;
        v16f x[MAX_RANK];
        for (int j = 0; j < R; j++) x[j] = bl_load(xr[j] + b, m);
        const v16f z = fold_forward(R, basis, w, x);
        const v16f nz = noise ? bl_load(noise + b, m) : splat(0.0f);
        bl_store(yT + n * B + b, sample_forward(L->sampling, z, nz, t, inv_t), m);
    }
}

/* The backward of the neurons of coefficient row g (neurons g * shared ..
 * (g + 1) * shared - 1) over samples [b0, b1): their slot gradients, and the
 * row's coefficient gradient added to dcoeffs[g]. */
BL_AI void row_backward(const int R, const int basis, const int want_gx, const bl_layer *L,
                        const bl_route *rt, float *buf, int64_t g, int64_t b0, int64_t b1,
                        const float *dyT, float *dcoeffs) {
    const int64_t B = L->batch, N = L->out_dim;
    const int nc = num_coeffs(R, basis);
    float w[MAX_COEFFS], top[MAX_COEFFS / 2];
    memcpy(w, L->coeffs + g * nc, (size_t)nc * sizeof(float));
    if (basis != BL_BASIS_LINEAR)
        for (int m = 0; m < 1 << (R - 1); m++)
            top[m] = basis == BL_BASIS_WALSH ? w[2 * m + 1] : w[2 * m + 1] - w[2 * m];
    const float inv_t = 1.0f / L->temperature;
    const int padded = (nc + BL_VL - 1) / BL_VL * BL_VL;
    /* Without a sampler or slot gradients, the coefficient gradient needs
     * neither z nor the kept levels: skip the refold. */
    const int refold = want_gx || L->sampling != BL_SAMPLE_NONE;
    v16f acc[MAX_COEFFS], dp[BL_ROUTE_MAX_SUMS];
    for (int k = 0; k < padded; k++) acc[k] = splat(0.0f);
    for (int64_t n = g * L->shared; n < (g + 1) * L->shared; n++) {
        const float *xr[MAX_RANK];
        for (int j = 0; j < R; j++) xr[j] = L->xT + (int64_t)L->idx[j * N + n] * B;
        const float *noise = L->noiseT ? L->noiseT + n * B : NULL;
        for (int k = 0; k < (want_gx ? bl_route_sums(R, rt) : 0); k++) dp[k] = splat(0.0f);
        for (int64_t b = b0; b < b1; b += BL_VL) {
            /* Lanes past the batch load dy = 0, so they add nothing anywhere. */
            const int m = b1 - b < BL_VL ? (int)(b1 - b) : BL_VL;
            v16f x[MAX_RANK], keep[MAX_COEFFS / 2], gx[MAX_RANK];
            for (int j = 0; j < R; j++) x[j] = bl_load(xr[j] + b, m);
            const v16f z = refold ? fold_keep(R, basis, w, top, x, keep) : splat(0.0f);
            const v16f nz = noise ? bl_load(noise + b, m) : splat(0.0f);
            const v16f dz = sample_backward(L->sampling, z, nz, bl_load(dyT + n * B + b, m),
                                            inv_t);
            fold_reverse(R, basis, want_gx, w, top, x, keep, dz, gx, acc);
            if (want_gx) bl_route_chunk(R, L, rt, buf, n, b, m, gx, dp);
        }
        if (want_gx) bl_route_neuron(R, L, rt, n, dp);
    }
    bl_hsum_add(acc, nc, dcoeffs + g * nc);
}

typedef void (*backward_fn)(const bl_layer *, const bl_route *, float *, int64_t, int64_t,
                            int64_t, const float *, float *);

/* One compiled specialisation per (rank, basis), so the fold is fully unrolled. */
#define VARIANT(R, BASIS, NAME)                                                              \
    static void fwd_##NAME(const bl_layer *L, int64_t n, int64_t b0, int64_t b1, float *y) { \
        neuron_forward(R, BASIS, L, n, b0, b1, y);                                           \
    }                                                                                        \
    static void bwd_##NAME(const bl_layer *L, const bl_route *rt, float *buf, int64_t g,       \
                           int64_t b0, int64_t b1, const float *dy, float *dc) {             \
        if (bl_route_wanted(rt))                                                             \
            row_backward(R, BASIS, 1, L, rt, buf, g, b0, b1, dy, dc);                        \
        else /* no gradient leaves through the slots: skip their sums */                     \
            row_backward(R, BASIS, 0, L, rt, buf, g, b0, b1, dy, dc);                        \
    }
VARIANT(2, BL_BASIS_INDICATOR, r2i)
VARIANT(4, BL_BASIS_INDICATOR, r4i)
VARIANT(6, BL_BASIS_INDICATOR, r6i)
VARIANT(2, BL_BASIS_WALSH, r2w)
VARIANT(4, BL_BASIS_WALSH, r4w)
VARIANT(6, BL_BASIS_WALSH, r6w)
VARIANT(2, BL_BASIS_LINEAR, r2l)
VARIANT(4, BL_BASIS_LINEAR, r4l)
VARIANT(6, BL_BASIS_LINEAR, r6l)

static const bl_neuron_forward FORWARD[3][3] = {
    {fwd_r2i, fwd_r4i, fwd_r6i}, {fwd_r2w, fwd_r4w, fwd_r6w}, {fwd_r2l, fwd_r4l, fwd_r6l}};
static const backward_fn BACKWARD[3][3] = {
    {bwd_r2i, bwd_r4i, bwd_r6i}, {bwd_r2w, bwd_r4w, bwd_r6w}, {bwd_r2l, bwd_r4l, bwd_r6l}};

static int check(const bl_layer *L) {
    if (L->rank != 2 && L->rank != 4 && L->rank != 6) return BL_BAD_RANK;
    if (L->basis < BL_BASIS_INDICATOR || L->basis > BL_BASIS_LINEAR) return BL_BAD_BASIS;
    if (L->sampling < BL_SAMPLE_NONE || L->sampling > BL_SAMPLE_GUMBEL_HARD)
        return BL_BAD_SAMPLING;
    if (L->shared < 1 || L->out_dim % L->shared != 0) return BL_BAD_SHARED;
    return BL_OK;
}

int bl_fold_forward(const bl_layer *L, float *yT) {
    const int err = check(L);
    if (err != BL_OK) return err;
    bl_forward_tiles(L, FORWARD[L->basis][L->rank / 2 - 1], yT);
    return BL_OK;
}

/* dcoeffs (out / shared, num_coeffs) is accumulated into (pass zeros), as is
 * route->dprobs; route->dxT is overwritten. A coefficient row belongs to one
 * thread in every batch tile (the same static schedule), so its sums need no
 * synchronisation and do not depend on the thread count. */
int bl_fold_backward(const bl_layer *L, const float *dyT, float *dcoeffs, const bl_route *route) {
    int err = check(L);
    if (err == BL_OK) err = bl_check_route(route);
    if (err != BL_OK) return err;
    const backward_fn f = BACKWARD[L->basis][L->rank / 2 - 1];
    const int64_t rows = L->out_dim / L->shared, B = L->batch;
    const int64_t tile = bl_batch_tile(L->in_dim, B);
    if (B <= 0) return BL_OK; /* with no neurons, the region still zeroes dx */
#pragma omp parallel num_threads(L->nthreads)
    {
        float *buf = bl_route_begin(L, route);
        for (int64_t b0 = 0; b0 < B; b0 += tile) {
            const int64_t b1 = b0 + tile < B ? b0 + tile : B;
#pragma omp for schedule(static)
            for (int64_t g = 0; g < rows; g++) f(L, route, buf, g, b0, b1, dyT, dcoeffs);
        }
        bl_route_end(L, route);
    }
    return BL_OK;
}
