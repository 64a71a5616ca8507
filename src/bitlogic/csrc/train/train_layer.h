/* Fused LUT-layer training kernels: shared description and entry points.
 *
 * Layout: activations are feature-major, x^T of shape (in_dim, batch), and
 * outputs are neuron-major, y^T (out_dim, batch). A neuron then reads its
 * rank inputs as contiguous rows and the batch is the vector axis; a layer's
 * y^T is the next layer's x^T with no transpose in between.
 *
 * Input gradients are scattered without atomics: threads own disjoint
 * neurons and add their slot gradients into a private (in_dim, batch) buffer
 * (thread 0 into dx^T itself), and the buffers are summed once at the end
 * (train_route.c). For a fixed thread count the result is deterministic.
 */
#ifndef BITLOGIC_TRAIN_LAYER_H
#define BITLOGIC_TRAIN_LAYER_H

#include <stdint.h>

/* Bump when an entry point's signature changes (checked by Python, see
 * bitlogic_abi.h and train_abi.c). */
#define BL_TRAIN_ABI_VERSION 2

/* How a neuron's coefficients combine its inputs (see train_fold.c). */
enum {
    BL_BASIS_INDICATOR = 0, /* (out, 2**rank) table, multilinear interpolation */
    BL_BASIS_WALSH = 1,     /* (out, 2**rank) Walsh coefficients on s = 2x - 1 */
    BL_BASIS_LINEAR = 2,    /* (out, rank + 1): weights, then the bias */
};

/* What follows the basis: the sample_sigmoid modes, or nothing. */
enum {
    BL_SAMPLE_NONE = 0,           /* y = z */
    BL_SAMPLE_SOFT = 1,           /* y = sigmoid(z / t) */
    BL_SAMPLE_HARD = 2,           /* y = [z > 0], gradient of SOFT */
    BL_SAMPLE_HARD_BERNOULLI = 3, /* y = [z / t + L > 0], gradient of SOFT */
    BL_SAMPLE_GUMBEL_SOFT = 4,    /* y = sigmoid((z + L) / t) */
    BL_SAMPLE_GUMBEL_HARD = 5,    /* y = [z + L > 0], gradient of GUMBEL_SOFT */
};

enum { BL_OK = 0, BL_BAD_RANK = -1, BL_BAD_BASIS = -2, BL_BAD_SAMPLING = -3,
       BL_BAD_CANDIDATES = -4, BL_BAD_SHARED = -5 };

typedef struct {
    int32_t rank;          /* 2, 4 or 6 */
    int32_t basis;         /* BL_BASIS_* (ignored by the lookup kernels) */
    int32_t sampling;      /* BL_SAMPLE_* (ignored by the lookup kernels) */
    int32_t nthreads;      /* OpenMP threads */
    int64_t batch;
    int64_t in_dim;
    int64_t out_dim;
    float temperature;
    const float *xT;       /* (in_dim, batch) */
    const int32_t *idx;    /* (rank, out_dim): input feature of slot j of neuron n */
    const float *coeffs;   /* (out_dim / shared, num_coeffs) */
    const float *noiseT;   /* (out_dim, batch) logistic noise, NULL when unused */
    int64_t shared;        /* consecutive neurons per coefficient row: neuron n reads row
                            * n / shared (a convolution's positions); 1 for dense layers */
} bl_layer;

/* Where the backward sends slot gradients (see train_route.h). */
typedef struct {
    float *dxT;            /* (in_dim, batch) input gradient, NULL when not wanted */
    float *scratch;        /* (nthreads - 1, in_dim, batch) per-thread partial sums */
    const int32_t *cand;   /* (C, rank, out) candidate inputs, NULL for fixed routing */
    const float *probs;    /* (C, rank, out) candidate probabilities */
    float *dprobs;         /* (C, rank, out) gradient of probs (accumulated), or NULL */
    int32_t num_candidates;
    int32_t spread;        /* dx to every candidate, weighted by probs (else the selected) */
    int32_t exclusive;     /* fixed routing reading every input exactly once (tree levels):
                            * the slot gradients are stored into dxT, no scratch */
} bl_route;

#define BL_MAX_CANDIDATES 64

/* Samples per batch tile: small enough that the x^T rows of one tile stay in
 * the last-level cache while every neuron of the layer gathers from them. */
static inline int64_t bl_batch_tile(int64_t in_dim, int64_t batch) {
    const int64_t budget = (int64_t)8 << 20; /* bytes of x^T per tile */
    int64_t tile = budget / (4 * (in_dim > 0 ? in_dim : 1));
    tile = tile < 64 ? 64 : tile & ~(int64_t)15;
    return tile < batch ? tile : batch;
}

/* Forward of neuron n over samples [b0, b1), writing its row of y^T. */
typedef void (*bl_neuron_forward)(const bl_layer *, int64_t, int64_t, int64_t, float *);

/* The forward of every neuron, batch tile by batch tile (all threads share a tile). */
static inline void bl_forward_tiles(const bl_layer *L, bl_neuron_forward f, float *yT) {
    const int64_t N = L->out_dim, B = L->batch, tile = bl_batch_tile(L->in_dim, B);
    if (B <= 0) return;
#pragma omp parallel num_threads(L->nthreads)
    for (int64_t b0 = 0; b0 < B; b0 += tile) {
        const int64_t b1 = b0 + tile < B ? b0 + tile : B;
#pragma omp for schedule(static)
        for (int64_t n = 0; n < N; n++) f(L, n, b0, b1, yT);
    }
}

/* BL_BAD_CANDIDATES for a candidate pool outside 1..BL_MAX_CANDIDATES or an
 * exclusive route with candidates, else BL_OK. */
static inline int bl_check_route(const bl_route *route) {
    if (route->cand && (route->num_candidates < 1 || route->num_candidates > BL_MAX_CANDIDATES
                        || route->exclusive))
        return BL_BAD_CANDIDATES;
    return BL_OK;
}

/* train_fold.c */
int bl_fold_forward(const bl_layer *L, float *yT);
int bl_fold_backward(const bl_layer *L, const float *dyT, float *dcoeffs, const bl_route *route);

/* train_lookup.c: coeffs is the (out, 2**rank) table, inputs binarised at 0.5;
 * per_address is (out, rank, 2**rank): the EFD gradient of slot j at address a. */
int bl_lookup_forward(const bl_layer *L, float *yT);
int bl_lookup_backward(const bl_layer *L, const float *dyT, const float *per_address,
                       float *dtable, const bl_route *route);

/* train_route.c */
int64_t bl_index_to_i32(const int64_t *src, int64_t n, int64_t bound, int32_t *dst);
float *bl_route_begin(const bl_layer *L, const bl_route *route);
void bl_route_end(const bl_layer *L, const bl_route *route);

#endif
