/* Routing slot gradients, one chunk of samples at a time, inside the neuron
 * loops of train_fold.c and train_lookup.c.
 *
 * gx[j] is d loss / d (value of slot j of neuron n) for 16 samples. It goes
 *  - to the input gradient: the thread's buffer row of the input the slot
 *    read (fixed routing, or `hard` candidates), or every candidate's row
 *    weighted by its probability (`soft` candidates);
 *  - to the candidate probabilities: <gx[j], x[candidate]> summed over the
 *    batch, as select_candidates' backward does.
 */
#ifndef BITLOGIC_TRAIN_ROUTE_H
#define BITLOGIC_TRAIN_ROUTE_H

#include "train_layer.h"
#include "train_vec.h"

#define BL_ROUTE_MAX_SUMS (BL_MAX_CANDIDATES * 6)

BL_AI void bl_add_row(float *row, v16f g, int m) { bl_store(row, bl_load(row, m) + g, m); }

/* True when the backward needs the slot gradients at all. */
BL_AI int bl_route_wanted(const bl_route *rt) { return rt->dxT != NULL || rt->dprobs != NULL; }

/* Accumulators dp[c * R + j] this neuron needs zeroed (a multiple of 16). */
BL_AI int bl_route_sums(const int R, const bl_route *rt) {
    if (!rt->cand || !rt->dprobs) return 0;
    return (rt->num_candidates * R + BL_VL - 1) / BL_VL * BL_VL;
}

BL_AI void bl_route_chunk(const int R, const bl_layer *L, const bl_route *rt, float *buf,
                          int64_t n, int64_t b, int m, const v16f *gx, v16f *dp) {
    const int64_t B = L->batch, N = L->out_dim;
    const int spread = rt->cand && rt->spread;
    for (int j = 0; j < R; j++) {
        if (buf && !spread) {
            float *row = buf + (int64_t)L->idx[j * N + n] * B + b;
            if (rt->exclusive) bl_store(row, gx[j], m);
            else bl_add_row(row, gx[j], m);
        }
        if (!rt->cand) continue;
        for (int c = 0; c < rt->num_candidates; c++) {
            const int64_t e = ((int64_t)c * R + j) * N + n;
            const int64_t row = (int64_t)rt->cand[e] * B + b;
            if (buf && spread) bl_add_row(buf + row, gx[j] * rt->probs[e], m);
            if (rt->dprobs) dp[c * R + j] = bl_fma(gx[j], bl_load(L->xT + row, m), dp[c * R + j]);
        }
    }
}

/* After the neuron's last chunk: add its probability gradients. */
BL_AI void bl_route_neuron(const int R, const bl_layer *L, const bl_route *rt, int64_t n,
                           const v16f *dp) {
    const int sums = bl_route_sums(R, rt);
    if (sums == 0) return;
    float total[BL_ROUTE_MAX_SUMS] = {0};
    bl_hsum_add(dp, sums, total);
    for (int k = 0; k < rt->num_candidates * R; k++) rt->dprobs[(int64_t)k * L->out_dim + n] += total[k];
}

#endif
