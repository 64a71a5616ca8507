/*
 * Packed ternary x int8 matrix products for bitlogic's PackedBitLinear.
 *
 * Weights: 2-bit offset codes (w + 1: 00 = -1, 01 = 0, 10 = +1), 256 weights
 * per 64-byte block; byte b of a block holds the weights at block positions
 * b, 64 + b, 128 + b, 192 + b in bit fields 0-1, 2-3, 4-5, 6-7. A row is
 * `nblocks * 64` bytes (see bitlogic/ternary/packing.py).
 * Activations: int8 codes, one row of `nblocks * 256` bytes per token, zero
 * padded. The kernels accumulate sum((w + 1) * x) in int32 and subtract the
 * token's code sum, which gives the exact sum(w * x).
 *
 * Every float operation mirrors the PyTorch reference one for one (division,
 * multiplication, round half to even, clamp; then acc * (step * gamma) + bias
 * as separate statements, ISO C mode so no FMA contraction), which makes the
 * results bit-identical to it.
 *
 * SIMD: AVX-512 VNNI, else AVX2 (with AVX-VNNI when present), else scalar;
 * chosen at compile time by the -march=native predefined macros.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bitlogic_abi.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define TERN_AVX512 1
#include <immintrin.h>
#elif defined(__AVX2__)
#define TERN_AVX2 1
#include <immintrin.h>
#endif

/* GCC in ISO C mode (-std=c11) already contracts nothing; clang needs telling. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* Bump when an entry point's signature changes (checked by Python). */
#define TERN_ABI_VERSION 1

#define BLOCK_W 256
#define BLOCK_B 64
#define AI static inline __attribute__((always_inline))

/* Register tile: rows x tokens accumulated together (sized to the register file). */
#if defined(TERN_AVX512)
#define TILE_R 4
#define TILE_T 4
#elif defined(TERN_AVX2)
#define TILE_R 4
#define TILE_T 2
#else
#define TILE_R 4
#define TILE_T 4
#endif

/* Below this many weight-bytes x tokens a parallel region costs more than it saves. */
#define PARALLEL_MIN_WORK (1 << 16)

int tern_simd_level(void) {
#if defined(TERN_AVX512)
    return 3;
#elif defined(TERN_AVX2) && defined(__AVXVNNI__)
    return 2;
#elif defined(TERN_AVX2)
    return 1;
#else
    return 0;
#endif
}

/* ---------------------------------------------------------------- tiles ---- */
/* Each tile writes raw[r][t] = sum over the row of code(w) * x (not yet corrected). */

#if defined(TERN_AVX512)

/* One token: masking instead of shifting keeps field j at weight 4^j, so each
 * field gets its own accumulator and is divided out (exactly) at the end. */
AI void tile_gemv(const uint8_t *w, int64_t rb, int64_t nb, const int8_t *x, int R,
                  int32_t raw[TILE_R][TILE_T]) {
    __m512i acc[TILE_R][4];
    for (int r = 0; r < R; r++)
        for (int j = 0; j < 4; j++) acc[r][j] = _mm512_setzero_si512();
    const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0c);
    const __m512i m2 = _mm512_set1_epi8(0x30), m3 = _mm512_set1_epi8((char)0xc0);
    for (int64_t b = 0; b < nb; b++) {
        const int8_t *xb = x + b * BLOCK_W;
        __m512i x0 = _mm512_loadu_si512(xb), x1 = _mm512_loadu_si512(xb + 64);
        __m512i x2 = _mm512_loadu_si512(xb + 128), x3 = _mm512_loadu_si512(xb + 192);
        for (int r = 0; r < R; r++) {
            __m512i v = _mm512_loadu_si512(w + r * rb + b * BLOCK_B);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], _mm512_and_si512(v, m0), x0);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], _mm512_and_si512(v, m1), x1);
            acc[r][2] = _mm512_dpbusd_epi32(acc[r][2], _mm512_and_si512(v, m2), x2);
            acc[r][3] = _mm512_dpbusd_epi32(acc[r][3], _mm512_and_si512(v, m3), x3);
        }
    }
    for (int r = 0; r < R; r++) {
        __m512i s = _mm512_add_epi32(acc[r][0], _mm512_srai_epi32(acc[r][1], 2));
        s = _mm512_add_epi32(s, _mm512_srai_epi32(acc[r][2], 4));
        s = _mm512_add_epi32(s, _mm512_srai_epi32(acc[r][3], 6));
        raw[r][0] = _mm512_reduce_add_epi32(s);
    }
}

/* Several tokens: decode each field once by shift+mask and reuse it T times. */
AI void tile_gemm(const uint8_t *w, int64_t rb, int64_t nb, const int8_t *x, int64_t xs, int R,
                  int T, int32_t raw[TILE_R][TILE_T]) {
    __m512i acc[TILE_R][TILE_T];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_si512();
    const __m512i m3 = _mm512_set1_epi8(0x03);
    for (int64_t b = 0; b < nb; b++) {
        __m512i v[TILE_R];
        for (int r = 0; r < R; r++) v[r] = _mm512_loadu_si512(w + r * rb + b * BLOCK_B);
        for (int j = 0; j < 4; j++) {
            __m512i d[TILE_R];
            for (int r = 0; r < R; r++) {
                d[r] = _mm512_and_si512(v[r], m3);
                v[r] = _mm512_srli_epi16(v[r], 2);
            }
            for (int t = 0; t < T; t++) {
                __m512i xv = _mm512_loadu_si512(x + t * xs + b * BLOCK_W + j * 64);
                for (int r = 0; r < R; r++) acc[r][t] = _mm512_dpbusd_epi32(acc[r][t], d[r], xv);
            }
        }
    }
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) raw[r][t] = _mm512_reduce_add_epi32(acc[r][t]);
}

#elif defined(TERN_AVX2)

AI __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) {
#if defined(__AVXVNNI__)
    return _mm256_dpbusd_avx_epi32(acc, u, s);
#else
    /* Codes are <= 2, so the pairwise int16 sums (<= 508) never saturate. */
    __m256i pairs = _mm256_maddubs_epi16(u, s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
#endif
}

AI int32_t hsum256(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* 32-byte halves of a block line up with 32 contiguous activations per field. */
AI void tile_gemm(const uint8_t *w, int64_t rb, int64_t nb, const int8_t *x, int64_t xs, int R,
                  int T, int32_t raw[TILE_R][TILE_T]) {
    __m256i acc[TILE_R][TILE_T];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_si256();
    const __m256i m3 = _mm256_set1_epi8(0x03);
    for (int64_t b = 0; b < nb; b++) {
        for (int h = 0; h < 2; h++) {
            __m256i v[TILE_R];
            for (int r = 0; r < R; r++)
                v[r] = _mm256_loadu_si256((const __m256i *)(w + r * rb + b * BLOCK_B + h * 32));
            for (int j = 0; j < 4; j++) {
                for (int t = 0; t < T; t++) {
                    __m256i xv = _mm256_loadu_si256(
                        (const __m256i *)(x + t * xs + b * BLOCK_W + j * 64 + h * 32));
                    for (int r = 0; r < R; r++)
                        acc[r][t] = dot_u8s8(acc[r][t], _mm256_and_si256(v[r], m3), xv);
                }
                for (int r = 0; r < R; r++) v[r] = _mm256_srli_epi16(v[r], 2);
            }
        }
    }
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) raw[r][t] = hsum256(acc[r][t]);
}

AI void tile_gemv(const uint8_t *w, int64_t rb, int64_t nb, const int8_t *x, int R,
                  int32_t raw[TILE_R][TILE_T]) {
    tile_gemm(w, rb, nb, x, 0, R, 1, raw);
}

#else /* portable scalar */

AI void tile_gemm(const uint8_t *w, int64_t rb, int64_t nb, const int8_t *x, int64_t xs, int R,
                  int T, int32_t raw[TILE_R][TILE_T]) {
    for (int r = 0; r < R; r++) {
        for (int t = 0; t < T; t++) {
            const uint8_t *wr = w + r * rb;
            const int8_t *xt = x + t * xs;
            int32_t s = 0;
            for (int64_t b = 0; b < nb; b++)
                for (int c = 0; c < BLOCK_B; c++) {
                    unsigned byte = wr[b * BLOCK_B + c];
                    const int8_t *xc = xt + b * BLOCK_W + c;
                    s += (int32_t)(byte & 3u) * xc[0] + (int32_t)((byte >> 2) & 3u) * xc[64] +
                         (int32_t)((byte >> 4) & 3u) * xc[128] + (int32_t)(byte >> 6) * xc[192];
                }
            raw[r][t] = s;
        }
    }
}

AI void tile_gemv(const uint8_t *w, int64_t rb, int64_t nb, const int8_t *x, int R,
                  int32_t raw[TILE_R][TILE_T]) {
    tile_gemm(w, rb, nb, x, 0, R, 1, raw);
}

#endif

/* Instantiate the tiles for every (rows, tokens) shape with compile-time sizes. */
static void tile_any(const uint8_t *w, int64_t rb, int64_t nb, const int8_t *x, int64_t xs,
                     int R, int T, int32_t raw[TILE_R][TILE_T]) {
    if (R == TILE_R) {
        switch (T) {
        case 1: tile_gemv(w, rb, nb, x, TILE_R, raw); return;
        case 2: tile_gemm(w, rb, nb, x, xs, TILE_R, 2, raw); return;
#if TILE_T >= 4
        case 3: tile_gemm(w, rb, nb, x, xs, TILE_R, 3, raw); return;
        case 4: tile_gemm(w, rb, nb, x, xs, TILE_R, 4, raw); return;
#endif
        default: return;
        }
    }
    for (int r = 0; r < R; r++) {
        int32_t one[TILE_R][TILE_T];
        switch (T) {
        case 1: tile_gemv(w + r * rb, rb, nb, x, 1, one); break;
        case 2: tile_gemm(w + r * rb, rb, nb, x, xs, 1, 2, one); break;
#if TILE_T >= 4
        case 3: tile_gemm(w + r * rb, rb, nb, x, xs, 1, 3, one); break;
        case 4: tile_gemm(w + r * rb, rb, nb, x, xs, 1, 4, one); break;
#endif
        default: return;
        }
        for (int t = 0; t < T; t++) raw[r][t] = one[0][t];
    }
}

static int resolve_threads(int nthreads, int64_t work) {
#ifdef _OPENMP
    if (work < PARALLEL_MIN_WORK) return 1;
    return nthreads > 0 ? nthreads : omp_get_max_threads();
#else
    (void)nthreads;
    (void)work;
    return 1;
#endif
}

/*
 * y[t, o] for t < batch, o < nout. With yf != NULL:
 *   yf[t*nout + o] = (float)(raw - qsum[t]) * (step[t] * gamma[o]) (+ bias[o]);
 * otherwise yi[t*nout + o] = raw - qsum[t] (the exact integer dot product).
 */
static void run(const uint8_t *w, int64_t nout, int64_t nb, const int8_t *x, const int32_t *qsum,
                int64_t batch, const float *step, const float *gamma, const float *bias,
                float *yf, int32_t *yi, int nthreads) {
    const int64_t rb = nb * BLOCK_B, xs = nb * BLOCK_W;
    const int64_t ntiles = (nout + TILE_R - 1) / TILE_R;
    const int threads = resolve_threads(nthreads, nout * rb * batch);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (int64_t tile = 0; tile < ntiles; tile++) {
        const int64_t o0 = tile * TILE_R;
        const int R = (int)(nout - o0 < TILE_R ? nout - o0 : TILE_R);
        for (int64_t t0 = 0; t0 < batch; t0 += TILE_T) {
            const int T = (int)(batch - t0 < TILE_T ? batch - t0 : TILE_T);
            int32_t raw[TILE_R][TILE_T];
            tile_any(w + o0 * rb, rb, nb, x + t0 * xs, xs, R, T, raw);
            for (int t = 0; t < T; t++) {
                const int64_t row = (t0 + t) * nout;
                for (int r = 0; r < R; r++) {
                    const int32_t acc = raw[r][t] - qsum[t0 + t];
                    if (yf) {
                        const float scale = step[t0 + t] * gamma[o0 + r];
                        float v = (float)acc * scale;
                        if (bias) v = v + bias[o0 + r];
                        yf[row + o0 + r] = v;
                    } else {
                        yi[row + o0 + r] = acc;
                    }
                }
            }
        }
    }
}

void tern_gemm_f32(const uint8_t *w, int64_t nout, int64_t nb, const int8_t *x,
                   const int32_t *qsum, const float *step, int64_t batch, const float *gamma,
                   const float *bias, float *y, int nthreads) {
    run(w, nout, nb, x, qsum, batch, step, gamma, bias, y, NULL, nthreads);
}

void tern_gemm_i32(const uint8_t *w, int64_t nout, int64_t nb, const int8_t *x,
                   const int32_t *qsum, int64_t batch, int32_t *y, int nthreads) {
    run(w, nout, nb, x, qsum, batch, NULL, NULL, NULL, NULL, y, nthreads);
}

/* ------------------------------------------------------- quantization ---- */

static void quantize_row(const float *x, int64_t cols, int64_t ldq, float qmax, int8_t *q,
                         float *step, int32_t *qsum) {
    float amax = 0.0f;
    int64_t i = 0;
    int32_t sum = 0;
#if defined(TERN_AVX512)
    __m512 vmax = _mm512_setzero_ps();
    for (; i + 16 <= cols; i += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
    amax = _mm512_reduce_max_ps(vmax);
#endif
    for (; i < cols; i++) amax = fabsf(x[i]) > amax ? fabsf(x[i]) : amax;
    const float scale = amax < 1e-5f ? 1e-5f : amax;
    i = 0;
#if defined(TERN_AVX512)
    const __m512 vs = _mm512_set1_ps(scale), vq = _mm512_set1_ps(qmax);
    const __m512 lo = _mm512_set1_ps(-qmax);
    __m512i vsum = _mm512_setzero_si512();
    for (; i + 16 <= cols; i += 16) {
        __m512 v = _mm512_mul_ps(_mm512_div_ps(_mm512_loadu_ps(x + i), vs), vq);
        v = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v = _mm512_min_ps(_mm512_max_ps(v, lo), vq);
        __m512i iv = _mm512_cvtps_epi32(v);
        vsum = _mm512_add_epi32(vsum, iv);
        _mm_storeu_si128((__m128i *)(q + i), _mm512_cvtepi32_epi8(iv));
    }
    sum = _mm512_reduce_add_epi32(vsum);
#endif
    for (; i < cols; i++) {
        float v = nearbyintf((x[i] / scale) * qmax);
        v = v < -qmax ? -qmax : (v > qmax ? qmax : v);
        q[i] = (int8_t)v;
        sum += (int32_t)v;
    }
    memset(q + cols, 0, (size_t)(ldq - cols));
    *step = scale / qmax;
    *qsum = sum;
}

/* Per-row absmax quantization of x [rows, cols] into q [rows, ldq] (zero padded). */
void tern_quantize_rows(const float *x, int64_t rows, int64_t cols, int64_t ldq, float qmax,
                        int8_t *q, float *step, int32_t *qsum, int nthreads) {
    const int threads = resolve_threads(nthreads, rows * cols * 16);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && rows > 1)
    for (int64_t r = 0; r < rows; r++)
        quantize_row(x + r * cols, cols, ldq, qmax, q + r * ldq, step + r, qsum + r);
}

/*
 * The whole layer in one call: quantize x [batch, cols] per token, multiply,
 * scale. Scratch for the codes is allocated here so that Python pays for one
 * foreign call and one output tensor. Returns 0, or -1 if out of memory.
 */
int tern_linear_f32(const float *x, int64_t batch, int64_t cols, float qmax, const uint8_t *w,
                    int64_t nout, int64_t nb, const float *gamma, const float *bias, float *y,
                    int nthreads) {
    const int64_t ldq = nb * BLOCK_W;
    /* Codes first (a multiple of 256 bytes per row keeps the floats aligned). */
    const size_t per_row = (size_t)ldq + sizeof(float) + sizeof(int32_t);
    char *scratch = malloc((size_t)batch * per_row);
    if (!scratch) return -1;
    int8_t *q = (int8_t *)scratch;
    float *step = (float *)(scratch + batch * ldq);
    int32_t *qsum = (int32_t *)(step + batch);
    tern_quantize_rows(x, batch, cols, ldq, qmax, q, step, qsum, nthreads);
    run(w, nout, nb, q, qsum, batch, step, gamma, bias, y, NULL, nthreads);
    free(scratch);
    return 0;
}

/* ---------------------------------------------------------------- ABI ---- */

static const bitlogic_abi_entry abi[] = {
    BITLOGIC_ABI_VALUE(TERN_ABI_VERSION),
    BITLOGIC_ABI_VALUE(BLOCK_W),
    BITLOGIC_ABI_VALUE(BLOCK_B),
    BITLOGIC_ABI_END,
};

const bitlogic_abi_entry *bitlogic_abi(void) { return abi; }
