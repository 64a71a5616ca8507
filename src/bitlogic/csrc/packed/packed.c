/* Driver of the packed engine: batch tiling, threads, GroupSum, argmax.
 *
 * The batch is cut into blocks of BL_BLOCK samples; each OpenMP thread owns
 * two activation buffers of max_width vectors and runs a block through every
 * layer, so a layer's inputs stay in that core's L2 (8000 signals of 512
 * samples = 512 KiB). GroupSum counts ones per class with a carry-save
 * (bit-sliced) accumulator over the group's vectors -- about two vpternlog
 * per LUT output -- and only then turns the count planes into integers per
 * sample.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "packed.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#define BL_MAX_LEVELS 32

/* Bit-sliced counter: level k holds up to two pending vectors of weight 2**k. */
typedef struct {
    bl_vec v[BL_MAX_LEVELS][2];
    int n[BL_MAX_LEVELS];
} bl_counter;

static inline void counter_add(bl_counter *c, bl_vec x, int k)
{
    while (c->n[k] == 2) { /* full adder: three of weight 2**k -> sum + carry */
        bl_vec p = c->v[k][0], q = c->v[k][1];
        c->v[k][0] = p ^ q ^ x;
        c->n[k] = 1;
        x = (p & q) | (x & (p ^ q));
        k++;
    }
    c->v[k][c->n[k]++] = x;
}

/* One carry-save adder: three vectors of one weight -> sum and carry. */
#define BL_CSA(carry, sum, a, b, c)        \
    do {                                   \
        bl_vec u_ = (a) ^ (b);             \
        (carry) = ((a) & (b)) | (u_ & (c)); \
        (sum) = u_ ^ (c);                  \
    } while (0)

/* Count the ones of `n` vectors per sample into planes[k] (bit weight 2**k).
 * Harley-Seal: sixteen inputs at a time are folded into register-resident
 * ones/twos/fours/eights planes with 15 carry-save adders (two vpternlog
 * each); only the resulting "sixteens" go to the general counter. */
static int count_planes(const bl_vec *sig, int32_t n, bl_vec *planes)
{
    bl_counter c;
    memset(c.n, 0, sizeof c.n);
    bl_vec ones = {0}, twos = {0}, fours = {0}, eights = {0};
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const bl_vec *d = sig + i;
        bl_vec ta, tb, fa, fb, ea, eb, sixteens;
        BL_CSA(ta, ones, ones, d[0], d[1]);
        BL_CSA(tb, ones, ones, d[2], d[3]);
        BL_CSA(fa, twos, twos, ta, tb);
        BL_CSA(ta, ones, ones, d[4], d[5]);
        BL_CSA(tb, ones, ones, d[6], d[7]);
        BL_CSA(fb, twos, twos, ta, tb);
        BL_CSA(ea, fours, fours, fa, fb);
        BL_CSA(ta, ones, ones, d[8], d[9]);
        BL_CSA(tb, ones, ones, d[10], d[11]);
        BL_CSA(fa, twos, twos, ta, tb);
        BL_CSA(ta, ones, ones, d[12], d[13]);
        BL_CSA(tb, ones, ones, d[14], d[15]);
        BL_CSA(fb, twos, twos, ta, tb);
        BL_CSA(eb, fours, fours, fa, fb);
        BL_CSA(sixteens, eights, eights, ea, eb);
        counter_add(&c, sixteens, 4);
    }
    counter_add(&c, ones, 0);
    counter_add(&c, twos, 1);
    counter_add(&c, fours, 2);
    counter_add(&c, eights, 3);
    for (; i < n; i++)
        counter_add(&c, sig[i], 0);
    int levels = 0;
    for (int k = 0; k < BL_MAX_LEVELS; k++) {
        if (c.n[k] == 2) { /* half adder leaves one vector per level */
            bl_vec p = c.v[k][0], q = c.v[k][1];
            c.v[k][0] = p ^ q;
            c.n[k] = 1;
            counter_add(&c, p & q, k + 1);
        }
        planes[k] = c.n[k] ? c.v[k][0] : (bl_vec){0};
        if (c.n[k])
            levels = k + 1;
    }
    return levels;
}

/* counts[j] = sum_k bit j of planes[k] << k, for the first `ns` samples. */
static void planes_to_counts(const bl_vec *planes, int levels, int ns, int32_t *counts)
{
#if defined(__AVX512F__)
    for (int j = 0; j < ns; j += 16) {
        __m512i acc = _mm512_setzero_si512();
        for (int k = 0; k < levels; k++) {
            __mmask16 m = (__mmask16)(planes[k][j >> 6] >> (j & 63));
            acc = _mm512_mask_add_epi32(acc, m, acc, _mm512_set1_epi32(1 << k));
        }
        _mm512_storeu_si512(counts + j, acc); /* counts has BL_BLOCK slots */
    }
#else
    for (int j = 0; j < ns; j++) {
        int32_t v = 0;
        for (int k = 0; k < levels; k++)
            v |= (int32_t)((planes[k][j >> 6] >> (j & 63)) & 1) << k;
        counts[j] = v;
    }
#endif
}

static void group_sum(const bl_net *net, const bl_vec *last, int64_t row0, int ns,
                      int32_t *stage, int32_t *counts, float *scores, int64_t *pred)
{
    const int32_t k = net->num_classes, g = net->group_size;
    bl_vec planes[BL_MAX_LEVELS];
    for (int32_t c = 0; c < k; c++) {
        int levels = count_planes(last + (int64_t)c * g, g, planes);
        planes_to_counts(planes, levels, ns, stage + (int64_t)c * BL_BLOCK);
    }
    if (pred) { /* class-outer so the compiler vectorises across samples */
        int32_t best[BL_BLOCK], arg[BL_BLOCK];
        for (int j = 0; j < ns; j++) {
            best[j] = stage[j];
            arg[j] = 0;
        }
        for (int32_t c = 1; c < k; c++) {
            const int32_t *v = stage + (int64_t)c * BL_BLOCK;
            for (int j = 0; j < ns; j++) { /* strict: ties keep the lower class */
                arg[j] = v[j] > best[j] ? c : arg[j];
                best[j] = v[j] > best[j] ? v[j] : best[j];
            }
        }
        for (int j = 0; j < ns; j++)
            pred[row0 + j] = arg[j];
    }
    for (int32_t c = 0; c < k && (counts || scores); c++) {
        const int32_t *v = stage + (int64_t)c * BL_BLOCK;
        for (int j = 0; j < ns; j++) {
            if (counts)
                counts[(row0 + j) * k + c] = v[j];
            if (scores)
                scores[(row0 + j) * k + c] = (float)v[j] / net->tau;
        }
    }
}

/* bits[(row0 + j) * nbits + i] = bit j of last[order[i]] as 0.0f / 1.0f, for
 * the first `ns` samples. Outputs go in tiles of 256 so their vectors stay in
 * L1 while every sample's row of the tile is written in order. */
static void write_bits(const bl_vec *last, int64_t row0, int ns, const int32_t *order,
                       int64_t nbits, float *bits)
{
    for (int64_t i0 = 0; i0 < nbits; i0 += 256) {
        const int64_t i1 = i0 + 256 < nbits ? i0 + 256 : nbits;
        for (int j = 0; j < ns; j++) {
            float *row = bits + (row0 + j) * nbits;
            for (int64_t i = i0; i < i1; i++)
                row[i] = (float)((last[order[i]][j >> 6] >> (j & 63)) & 1);
        }
    }
}

/* Where a run's last level goes: GroupSum outputs (any may be NULL), or,
 * when bits is set, the last level's bits in `order` (see write_bits). */
typedef struct {
    int32_t *counts;
    float *scores;
    int64_t *pred;
    const int32_t *order;
    int64_t nbits;
    float *bits;
} bl_outputs;

/* Evaluate `batch` rows of x into `o`. Returns -1, or the smallest flat index
 * of x holding a non-binary value (bit kinds only), in which case the
 * outputs are unspecified; -2 when a buffer could not be allocated. */
static int64_t run_batch(const bl_net *net, const void *x, int32_t kind, int64_t batch,
                         const bl_outputs *o, int32_t num_threads)
{
    const int64_t nblocks = (batch + BL_BLOCK - 1) / BL_BLOCK;
    const size_t act_bytes = sizeof(bl_vec) * (size_t)net->max_width;
    const size_t stage_ints = o->bits ? 0 : BL_BLOCK * (size_t)net->num_classes;
    int64_t first_bad = INT64_MAX;
    int failed = 0;
#ifdef _OPENMP
    if (num_threads <= 0)
        num_threads = omp_get_max_threads();
    if (num_threads > nblocks)
        num_threads = nblocks > 0 ? (int32_t)nblocks : 1;
#pragma omp parallel num_threads(num_threads) reduction(min : first_bad) reduction(| : failed)
#endif
    {
        bl_vec *a = aligned_alloc(sizeof(bl_vec), act_bytes);
        bl_vec *b = aligned_alloc(sizeof(bl_vec), act_bytes);
        int32_t *stage = stage_ints ? malloc(sizeof(int32_t) * stage_ints) : NULL;
        uint64_t *rows = malloc(sizeof(uint64_t) * 64 * (size_t)((net->num_inputs + 63) / 64));
        failed = !a || !b || (stage_ints && !stage) || !rows;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (int64_t blk = 0; blk < nblocks; blk++) {
            if (failed)
                continue;
            int64_t row0 = blk * BL_BLOCK;
            int ns = (int)(batch - row0 < BL_BLOCK ? batch - row0 : BL_BLOCK);
            int64_t bad = BL_NAME(bl_pack_block)(net, x, kind, row0, ns, rows, a);
            first_bad = bad < first_bad ? bad : first_bad;
            bl_vec *in = a, *out = b;
            for (int32_t l = 0; l < net->num_layers; l++) {
                BL_NAME(bl_eval_layer)(net, l, in, out);
                bl_vec *t = in;
                in = out;
                out = t;
            }
            if (o->bits)
                write_bits(in, row0, ns, o->order, o->nbits, o->bits);
            else
                group_sum(net, in, row0, ns, stage, o->counts, o->scores, o->pred);
        }
        free(a);
        free(b);
        free(stage);
        free(rows);
    }
    if (failed)
        return -2;
    return first_bad == INT64_MAX ? -1 : first_bad;
}

/* Evaluate `batch` rows of x. Any of counts/scores/pred may be NULL.
 * Returns as run_batch does. */
int64_t BL_NAME(bl_run)(const bl_net *net, const void *x, int32_t kind, int64_t batch,
                        int32_t *counts, float *scores, int64_t *pred, int32_t num_threads)
{
    const bl_outputs o = {counts, scores, pred, NULL, 0, NULL};
    return run_batch(net, x, kind, batch, &o, num_threads);
}

/* Evaluate `batch` rows of x into bits (batch, nbits) float32: entry [r, i] is
 * sample r's last-level output order[i] (each 0 <= order[i] < the last
 * layer's width, checked by the caller), 0.0 or 1.0. Returns as run_batch does. */
int64_t BL_NAME(bl_run_bits)(const bl_net *net, const void *x, int32_t kind, int64_t batch,
                             const int32_t *order, int64_t nbits, float *bits,
                             int32_t num_threads)
{
    const bl_outputs o = {NULL, NULL, NULL, order, nbits, bits};
    return run_batch(net, x, kind, batch, &o, num_threads);
}

/* Samples per block vector, for Python's information. */
int32_t BL_NAME(bl_block_samples)(void) { return BL_BLOCK; }

#if BL_WORDS == 8
/* The widest vector instruction set this build uses. */
const char *bl_isa(void)
{
#if defined(__AVX512F__)
    return "avx512";
#elif defined(__AVX2__)
    return "avx2";
#else
    return "scalar";
#endif
}
#endif
