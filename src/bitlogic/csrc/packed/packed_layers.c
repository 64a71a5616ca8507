/* LUT evaluation of the packed engine: one generic kernel for any rank 1..6.
 *
 * Rank 1 and 2 layers arrive sorted into runs of LUTs that compute the same
 * function, so each run is a tight loop over one fixed bit expression (a
 * single vpternlog with AVX-512) with no per-LUT branch or table lookup.
 * Ranks 3..6 use a Shannon expansion (mux trees, one vpternlog per mux)
 * whose bottom is chosen by measurement (single thread, 4000-wide layers,
 * ns per sample per layer pair): ranks 3-4 take constant masks at the bottom
 * level (rank 4: 232 vs 306 for the 16-function form), ranks 5-6 look the
 * bottom two levels up among the 16 functions of the last two inputs
 * (rank 6: 235 vs 893 for masks, which spill 32 vectors).
 */
#include <stdint.h>

#include "packed.h"

/* The 16 functions f(a, b) of two signals; code bit (2a + b) is f(a, b), the
 * MSB-first truth table of a rank-2 LUT whose input 0 is a. */
#define BL_F16(X)            \
    X(0, ZERO)               \
    X(1, ~(a | b))           \
    X(2, ~a & b)             \
    X(3, ~a)                 \
    X(4, a & ~b)             \
    X(5, ~b)                 \
    X(6, a ^ b)              \
    X(7, ~(a & b))           \
    X(8, a & b)              \
    X(9, ~(a ^ b))           \
    X(10, b)                 \
    X(11, ~a | b)            \
    X(12, a)                 \
    X(13, a | ~b)            \
    X(14, a | b)             \
    X(15, ~ZERO)

#define ZERO ((bl_vec){0})
#define MASKS_MAX_RANK 4

/* lo where s is 0, hi where s is 1; one vpternlog. */
static inline bl_vec mux(bl_vec s, bl_vec lo, bl_vec hi) { return lo ^ (s & (lo ^ hi)); }

static void eval_rank1_run(int32_t code, int32_t start, int32_t end, const int32_t *ix,
                           const bl_vec *in, bl_vec *out)
{
    /* code bit v is f(v): 0 -> 0, 1 -> ~x, 2 -> x, 3 -> 1 */
    for (int32_t p = start; p < end; p++) {
        bl_vec x = in[ix[p]];
        switch (code) {
        case 0: out[p] = ZERO; break;
        case 1: out[p] = ~x; break;
        case 2: out[p] = x; break;
        default: out[p] = ~ZERO; break;
        }
    }
}

static void eval_rank2_run(int32_t code, int32_t start, int32_t end, const int32_t *ix,
                           const bl_vec *in, bl_vec *out)
{
#define BL_RUN_CASE(c, expr)                                              \
    case c:                                                               \
        for (int32_t p = start; p < end; p++) {                           \
            bl_vec a = in[ix[2 * p]], b = in[ix[2 * p + 1]];              \
            (void)a;                                                      \
            (void)b;                                                      \
            out[p] = (expr);                                              \
        }                                                                 \
        break;
    switch (code) { BL_F16(BL_RUN_CASE) }
#undef BL_RUN_CASE
}

static inline void all16(bl_vec a, bl_vec b, bl_vec f[16])
{
#define BL_SET(c, expr) f[c] = (expr);
    BL_F16(BL_SET)
#undef BL_SET
}

/* Broadcast a scalar word to every lane. */
static inline bl_vec splat(uint64_t w) { return (bl_vec){0} + w; }

/* Ranks 3..4: the bottom mux level over the last input takes its constant
 * operands as all-zeros/all-ones masks, lo ^ (x & (lo ^ hi)); a mux tree over
 * the other inputs follows. R is a constant in each caller so loops unroll. */
static inline __attribute__((always_inline)) void
eval_shannon_masks(const int R, int32_t n, const int32_t *ix, const uint64_t *tt,
                   const bl_vec *in, bl_vec *out)
{
    bl_vec g[1 << (MASKS_MAX_RANK - 1)];
    for (int32_t p = 0; p < n; p++) {
        const int32_t *q = ix + (int64_t)p * R;
        uint64_t t = tt[p];
        bl_vec x = in[q[R - 1]];
        for (int m = 0; m < (1 << (R - 1)); m++) {
            uint64_t lo = (t >> (2 * m)) & 1, hi = (t >> (2 * m + 1)) & 1;
            g[m] = splat(-lo) ^ (x & splat(-(lo ^ hi)));
        }
        for (int j = R - 2, live = 1 << (R - 1); j >= 0; j--) {
            bl_vec s = in[q[j]];
            live >>= 1;
            for (int m = 0; m < live; m++)
                g[m] = mux(s, g[2 * m], g[2 * m + 1]);
        }
        out[p] = g[0];
    }
}

/* Ranks 5..6: all 16 functions of the last two inputs are formed once per
 * LUT and each 4-entry slice of the truth table picks one (a nibble), which
 * replaces the two bottom mux levels; a mux tree over the rest follows. */
static inline __attribute__((always_inline)) void
eval_shannon_f16(const int R, int32_t n, const int32_t *ix, const uint64_t *tt, const bl_vec *in,
                 bl_vec *out)
{
    bl_vec f[16], g[16];
    for (int32_t p = 0; p < n; p++) {
        const int32_t *q = ix + (int64_t)p * R;
        uint64_t t = tt[p];
        all16(in[q[R - 2]], in[q[R - 1]], f);
        for (int m = 0; m < (1 << (R - 2)); m++)
            g[m] = f[(t >> (4 * m)) & 15];
        for (int j = R - 3, live = 1 << (R - 2); j >= 0; j--) {
            bl_vec s = in[q[j]];
            live >>= 1;
            for (int m = 0; m < live; m++)
                g[m] = mux(s, g[2 * m], g[2 * m + 1]);
        }
        out[p] = g[0];
    }
}

void BL_NAME(bl_eval_layer)(const bl_net *net, int32_t l, const bl_vec *in, bl_vec *out)
{
    const int32_t rank = net->rank[l], n = net->width[l];
    const int32_t *ix = net->idx + net->idx_off[l];
    const uint64_t *tt = net->tt + net->lut_off[l];

    if (rank <= 2) {
        for (int64_t r = net->run_off[l]; r < net->run_off[l + 1]; r++) {
            const int32_t *run = net->runs + 3 * r;
            if (rank == 1)
                eval_rank1_run(run[0], run[1], run[2], ix, in, out);
            else
                eval_rank2_run(run[0], run[1], run[2], ix, in, out);
        }
        return;
    }
    switch (rank) {
    case 3: eval_shannon_masks(3, n, ix, tt, in, out); break;
    case 4: eval_shannon_masks(4, n, ix, tt, in, out); break;
    case 5: eval_shannon_f16(5, n, ix, tt, in, out); break;
    default: eval_shannon_f16(6, n, ix, tt, in, out); break;
    }
}
