/* DWN lookup: binarise the gathered inputs at 0.5, read the table entry at
 * the MSB-first address; backward with Extended Finite Differences.
 *
 * The forward is dwn._EFDLookup's exactly; the table gradient sums the same
 * terms (dy of every sample at its address) in another order. The input
 * gradient needs, per neuron and address, alpha * sum_k C[a, k, j] A[k]; that
 * (out, rank, 2**rank) tensor is one small matrix product done by PyTorch
 * before the call, so this kernel only gathers from it. */
#include "train_layer.h"
#include "train_route.h"
#include "train_vec.h"

#define MAX_RANK 6

/* Ranks up to SELECT_MAX_RANK read tables with a select tree (2**R - 1 blends,
 * the table in registers); rank 6 uses one vector gather per read. Against the
 * gather, the tree measured 2.7x faster at rank 2 and even at rank 4. */
#define SELECT_MAX_RANK 4

BL_AI void input_masks(const int R, const bl_layer *L, int64_t n, int64_t b, int m, v16i *bit) {
    const int64_t B = L->batch, N = L->out_dim;
    const v16f half = (v16f){0} + 0.5f;
    for (int j = 0; j < R; j++)
        bit[j] = bl_load(L->xT + (int64_t)L->idx[j * N + n] * B + b, m) > half;
}

BL_AI v16i address(const int R, const v16i *bit) {
    v16i a = {0};
    for (int j = 0; j < R; j++) a |= bit[j] & (1 << (R - 1 - j));
    return a;
}

/* table[address] per lane; lanes past the batch read a valid entry. */
BL_AI v16f lookup(const int R, const float *table, const v16i *bit, v16i a) {
    if (R > SELECT_MAX_RANK) {
        v16f v;
        for (int l = 0; l < BL_VL; l++) v[l] = table[a[l]];
        return v;
    }
    v16f cur[1 << (SELECT_MAX_RANK - 1)];
    for (int j = R - 1; j >= 0; j--)
        for (int m = 0; m < 1 << j; m++) {
            const v16f lo = j == R - 1 ? (v16f){0} + table[2 * m] : cur[2 * m];
            const v16f hi = j == R - 1 ? (v16f){0} + table[2 * m + 1] : cur[2 * m + 1];
            cur[m] = bl_select(bit[j], hi, lo);
        }
    return cur[0];
}

BL_AI void neuron_forward(const int R, const bl_layer *L, int64_t n, int64_t b0, int64_t b1,
                          float *yT) {
    const float *table = L->coeffs + n * (1 << R);
    float *y = yT + n * L->batch;
    for (int64_t b = b0; b < b1; b += BL_VL) {
        const int m = b1 - b < BL_VL ? (int)(b1 - b) : BL_VL;
        v16i bit[MAX_RANK];
        input_masks(R, L, n, b, m, bit);
        bl_store(y + b, lookup(R, table, bit, address(R, bit)), m);
    }
}

BL_AI void neuron_backward(const int R, const int want_gx, const bl_layer *L,
                           const bl_route *rt, float *buf, int64_t n, int64_t b0, int64_t b1,
                           const float *dyT, const float *per_address, float *dtable) {
    const int64_t B = L->batch;
    const int K = 1 << R;
    const float *dy = dyT + n * B;
    const float *pa = per_address ? per_address + n * R * K : NULL;
    float acc[1 << MAX_RANK] = {0};
    v16f vacc[1 << SELECT_MAX_RANK], dp[BL_ROUTE_MAX_SUMS]; /* hsum reads groups of 16 */
    for (int k = 0; k < 1 << SELECT_MAX_RANK; k++) vacc[k] = (v16f){0};
    for (int k = 0; k < (want_gx ? bl_route_sums(R, rt) : 0); k++) dp[k] = (v16f){0};
    for (int64_t b = b0; b < b1; b += BL_VL) {
        const int m = b1 - b < BL_VL ? (int)(b1 - b) : BL_VL;
        v16i bit[MAX_RANK];
        input_masks(R, L, n, b, m, bit);
        const v16i a = address(R, bit);
        const v16f d = bl_load(dy + b, m); /* 0 past the batch */
        /* Lanes may share an address: small tables compare against every
         * address, large ones take a scalar histogram. */
        if (R <= SELECT_MAX_RANK)
            for (int k = 0; k < K; k++) vacc[k] += bl_select(a == k, d, (v16f){0});
        else
            for (int l = 0; l < m; l++) acc[a[l]] += d[l];
        if (!want_gx) continue;
        v16f gx[MAX_RANK];
        for (int j = 0; j < R; j++) gx[j] = lookup(R, pa + j * K, bit, a) * d;
        bl_route_chunk(R, L, rt, buf, n, b, m, gx, dp);
    }
    if (R <= SELECT_MAX_RANK)
        bl_hsum_add(vacc, K, dtable + n * K);
    else
        for (int k = 0; k < K; k++) dtable[n * K + k] += acc[k];
    if (want_gx) bl_route_neuron(R, L, rt, n, dp);
}

#define VARIANT(R)                                                                          \
    static void fwd_r##R(const bl_layer *L, int64_t n, int64_t b0, int64_t b1, float *y) {  \
        neuron_forward(R, L, n, b0, b1, y);                                                 \
    }                                                                                       \
    static void bwd_r##R(const bl_layer *L, const bl_route *rt, float *buf, int64_t n,      \
                         int64_t b0, int64_t b1, const float *dy, const float *pa,          \
                         float *dt) {                                                       \
        if (bl_route_wanted(rt))                                                            \
            neuron_backward(R, 1, L, rt, buf, n, b0, b1, dy, pa, dt);                       \
        else                                                                                \
            neuron_backward(R, 0, L, rt, buf, n, b0, b1, dy, pa, dt);                       \
    }
VARIANT(2)
VARIANT(4)
VARIANT(6)

typedef void (*backward_fn)(const bl_layer *, const bl_route *, float *, int64_t, int64_t,
                            int64_t, const float *, const float *, float *);
static const bl_neuron_forward FORWARD[3] = {fwd_r2, fwd_r4, fwd_r6};
static const backward_fn BACKWARD[3] = {bwd_r2, bwd_r4, bwd_r6};

int bl_lookup_forward(const bl_layer *L, float *yT) {
    if (L->rank != 2 && L->rank != 4 && L->rank != 6) return BL_BAD_RANK;
    if (L->shared != 1) return BL_BAD_SHARED; /* one table per neuron */
    bl_forward_tiles(L, FORWARD[L->rank / 2 - 1], yT);
    return BL_OK;
}

/* dtable (out, 2**rank) is accumulated into (pass zeros), as is
 * route->dprobs; route->dxT is overwritten. per_address may be NULL when the
 * route wants no slot gradients. */
int bl_lookup_backward(const bl_layer *L, const float *dyT, const float *per_address,
                       float *dtable, const bl_route *route) {
    if (L->rank != 2 && L->rank != 4 && L->rank != 6) return BL_BAD_RANK;
    if (L->shared != 1) return BL_BAD_SHARED;
    const int err = bl_check_route(route);
    if (err != BL_OK) return err;
    const backward_fn f = BACKWARD[L->rank / 2 - 1];
    const int64_t N = L->out_dim, B = L->batch, tile = bl_batch_tile(L->in_dim, B);
    if (B <= 0) return BL_OK; /* with no neurons, the region still zeroes dx */
#pragma omp parallel num_threads(L->nthreads)
    {
        float *buf = bl_route_begin(L, route);
        for (int64_t b0 = 0; b0 < B; b0 += tile) {
            const int64_t b1 = b0 + tile < B ? b0 + tile : B;
#pragma omp for schedule(static)
            for (int64_t n = 0; n < N; n++) f(L, route, buf, n, b0, b1, dyT, per_address, dtable);
        }
        bl_route_end(L, route);
    }
    return BL_OK;
}
