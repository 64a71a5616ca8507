/* Input stage of the packed engine: rows of samples -> bit-packed signals.
 *
 * A caller's x is sample-major (one row per sample). For each 64-sample word
 * and each chunk of 64 input bits we build 64 row masks (bit j = input
 * i0+j of one sample), then transpose the 64x64 bit matrix so that word i
 * holds input i0+i of all 64 samples. Thermometer encoding happens while the
 * row masks are built, so encoded bits never touch memory.
 */
#include <stdint.h>
#include <string.h>

#include "packed.h"

#ifndef BL_PREFETCH_ROWS
#define BL_PREFETCH_ROWS 8
#endif

#if defined(__AVX512BW__) && defined(__AVX512F__)
#include <immintrin.h>
#define BL_HAVE_AVX512 1
#endif

typedef uint64_t bl_u64x8 __attribute__((vector_size(64)));

/* Transpose a 64x64 bit matrix in place: bit j of a[i] moves to bit i of a[j].
 * Recursive block swap in six rounds: at distance d the upper d bits of row k
 * trade places with the lower d bits of row k+d. The rows sit in eight
 * 8-lane vectors; for d >= 8 the partners are whole vectors, for d < 8 they
 * are lanes of one vector reached with a shuffle. */
static void transpose64(uint64_t a[64])
{
    static const uint64_t mask[6] = {
        0x00000000FFFFFFFFULL, 0x0000FFFF0000FFFFULL, 0x00FF00FF00FF00FFULL,
        0x0F0F0F0F0F0F0F0FULL, 0x3333333333333333ULL, 0x5555555555555555ULL,
    };
    bl_u64x8 z[8];
    memcpy(z, a, sizeof z);
    for (int r = 0, d = 32; d >= 8; r++, d >>= 1) {
        for (int v = 0; v < 8; v++) {
            if (v & (d / 8))
                continue;
            bl_u64x8 t = ((z[v] >> d) ^ z[v + d / 8]) & mask[r];
            z[v] ^= t << d;
            z[v + d / 8] ^= t;
        }
    }
#define BL_LANE_ROUND(r, d, P0, P1, P2, P3, P4, P5, P6, P7)                           \
    do {                                                                              \
        const bl_u64x8 partner = {P0, P1, P2, P3, P4, P5, P6, P7};                    \
        const bl_u64x8 low = (bl_u64x8)(partner > (bl_u64x8){0, 1, 2, 3, 4, 5, 6, 7});    \
        for (int v = 0; v < 8; v++) {                                                 \
            bl_u64x8 t = ((z[v] >> d) ^ __builtin_shuffle(z[v], partner)) & mask[r];  \
            z[v] ^= ((t << d) & low) | (__builtin_shuffle(t, partner) & ~low);        \
        }                                                                             \
    } while (0)
    BL_LANE_ROUND(3, 4, 4, 5, 6, 7, 0, 1, 2, 3);
    BL_LANE_ROUND(4, 2, 2, 3, 0, 1, 6, 7, 4, 5);
    BL_LANE_ROUND(5, 1, 1, 0, 3, 2, 5, 4, 7, 6);
#undef BL_LANE_ROUND
    memcpy(a, z, sizeof z);
}

static inline uint64_t low_mask(int len) { return len >= 64 ? ~0ULL : ((1ULL << len) - 1); }

/* Row mask of `len` input bits given as bytes; *bad gets a mask of non-0/1 bytes. */
static inline uint64_t row_u8(const uint8_t *p, int len, uint64_t *bad)
{
#ifdef BL_HAVE_AVX512
    __m512i v = _mm512_maskz_loadu_epi8(low_mask(len), p);
    *bad = _mm512_test_epi8_mask(v, _mm512_set1_epi8((char)0xFE));
    return _mm512_test_epi8_mask(v, v);
#else
    uint64_t m = 0, b = 0;
    for (int j = 0; j < len; j++) {
        m |= (uint64_t)(p[j] != 0) << j;
        b |= (uint64_t)(p[j] > 1) << j;
    }
    *bad = b;
    return m;
#endif
}

/* Row mask of `len` input bits given as floats (0.0 or 1.0). */
static inline uint64_t row_f32(const float *p, int len, uint64_t *bad)
{
    uint64_t m = 0, b = 0;
#ifdef BL_HAVE_AVX512
    for (int q = 0; q < len; q += 16) {
        __mmask16 lm = (__mmask16)low_mask(len - q);
        __m512 v = _mm512_maskz_loadu_ps(lm, p + q);
        __mmask16 one = _mm512_mask_cmp_ps_mask(lm, v, _mm512_set1_ps(1.0f), _CMP_EQ_OQ);
        __mmask16 zero = _mm512_mask_cmp_ps_mask(lm, v, _mm512_setzero_ps(), _CMP_EQ_OQ);
        m |= (uint64_t)one << q;
        b |= (uint64_t)(lm & (__mmask16)~(one | zero)) << q;
    }
#else
    for (int j = 0; j < len; j++) {
        m |= (uint64_t)(p[j] == 1.0f) << j;
        b |= (uint64_t)(p[j] != 1.0f && p[j] != 0.0f) << j;
    }
#endif
    *bad = b;
    return m;
}

/* Row mask of encoded bits i0.. for one sample: x[feature(i)] > threshold(i). */
static inline uint64_t row_thermometer(const bl_net *net, const float *row, int64_t i0, int len)
{
    const int32_t *feat = net->bit_feature + i0;
    const float *thr = net->thresholds + i0;
    uint64_t m = 0;
#ifdef BL_HAVE_AVX512
    for (int q = 0; q < len; q += 16) {
        __mmask16 lm = (__mmask16)low_mask(len - q);
        __m512i fi = _mm512_maskz_loadu_epi32(lm, feat + q);
        __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lm, fi, row, 4);
        __m512 t = _mm512_maskz_loadu_ps(lm, thr + q);
        m |= (uint64_t)_mm512_mask_cmp_ps_mask(lm, v, t, _CMP_GT_OQ) << q;
    }
#else
    for (int j = 0; j < len; j++)
        m |= (uint64_t)(row[feat[j]] > thr[j]) << j;
#endif
    return m;
}

int64_t BL_NAME(bl_pack_block)(const bl_net *net, const void *x, int32_t kind, int64_t row0,
                               int64_t nrows, uint64_t *rows, bl_vec *act)
{
    const int64_t n_in = net->num_inputs;
    const int64_t row_len = kind == BL_X_F32_FEATURES ? net->num_features : n_in;
    const int64_t chunks = (n_in + 63) / 64;
    int64_t first_bad = INT64_MAX;

    for (int w = 0; w < BL_WORDS; w++) {
        int64_t s0 = row0 + 64 * (int64_t)w;
        int64_t ns = nrows - 64 * (int64_t)w;
        ns = ns < 0 ? 0 : (ns > 64 ? 64 : ns);
        /* Row-major pass: each sample's row is read once, front to back, which
         * the prefetcher follows; rows[c * 64 + s] collects chunk c of sample s. */
        const size_t elem = kind == BL_X_U8_BITS ? 1 : 4;
        const size_t row_bytes = (size_t)row_len * elem;
        for (int64_t s = 0; s < ns; s++) {
            int64_t at = (s0 + s) * row_len;
            /* Rows cross 4 KiB pages every few samples, where the hardware
             * prefetcher stops; fetch a few rows of this block ahead by hand. */
            if (64 * w + s + BL_PREFETCH_ROWS < nrows) {
                const char *ahead = (const char *)x + (size_t)(at + BL_PREFETCH_ROWS * row_len) * elem;
                for (size_t off = 0; off < row_bytes; off += 64)
                    __builtin_prefetch(ahead + off);
            }
            for (int64_t c = 0; c < chunks; c++) {
                int64_t i0 = 64 * c;
                int len = (int)(n_in - i0 < 64 ? n_in - i0 : 64);
                uint64_t bad = 0;
                if (kind == BL_X_U8_BITS)
                    rows[c * 64 + s] = row_u8((const uint8_t *)x + at + i0, len, &bad);
                else if (kind == BL_X_F32_BITS)
                    rows[c * 64 + s] = row_f32((const float *)x + at + i0, len, &bad);
                else
                    rows[c * 64 + s] = row_thermometer(net, (const float *)x + at, i0, len);
                if (bad) {
                    int64_t flat = at + i0 + __builtin_ctzll(bad);
                    first_bad = flat < first_bad ? flat : first_bad;
                }
            }
        }
        for (int64_t c = 0; c < chunks; c++) {
            int len = (int)(n_in - 64 * c < 64 ? n_in - 64 * c : 64);
            for (int64_t s = ns; s < 64; s++) /* padding samples of the tail block are zero */
                rows[c * 64 + s] = 0;
            transpose64(rows + 64 * c);
            for (int i = 0; i < len; i++)
                act[64 * c + i][w] = rows[64 * c + i];
        }
    }
    return first_bad;
}
