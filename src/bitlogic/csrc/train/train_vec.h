/* 16-lane float vectors for the training kernels.
 *
 * The kernels vectorise along the batch: one v16f holds one signal for 16
 * consecutive samples. GCC's vector extension lowers v16f to one zmm register
 * with AVX-512, two ymm with AVX2 and scalar code elsewhere, so the same source
 * is correct on every x86 (and non-x86) CPU that -march=native describes.
 *
 * The sources are compiled with -std=c11, under which GCC does not contract
 * a*b+c into an FMA; the folds then round exactly like PyTorch's separate
 * elementwise ops, which keeps hard thresholds bit-identical to the reference.
 */
#ifndef BITLOGIC_TRAIN_VEC_H
#define BITLOGIC_TRAIN_VEC_H

#include <stdint.h>
#include <string.h>
#if defined(__AVX512F__) || defined(__FMA__)
#include <immintrin.h>
#endif

#define BL_VL 16
#define BL_AI static inline __attribute__((always_inline))

typedef float v16f __attribute__((vector_size(4 * BL_VL)));
typedef int32_t v16i __attribute__((vector_size(4 * BL_VL)));

/* Partial vectors are rare (one per row); keeping them out of line stops GCC
 * from merging the full and partial cases into one variable-length memcpy. */
__attribute__((noinline)) static void bl_load_part(v16f *v, const float *p, int n) {
    *v = (v16f){0};
    memcpy(v, p, (size_t)n * sizeof(float));
}

__attribute__((noinline)) static void bl_store_part(float *p, const v16f *v, int n) {
    memcpy(p, v, (size_t)n * sizeof(float));
}

/* Load n <= 16 floats; missing lanes read as 0 so they contribute nothing. */
BL_AI v16f bl_load(const float *p, int n) {
    v16f v;
    if (n == BL_VL)
        memcpy(&v, p, sizeof v); /* one unaligned vector load */
    else
        bl_load_part(&v, p, n);
    return v;
}

BL_AI void bl_store(float *p, v16f v, int n) {
    if (n == BL_VL)
        memcpy(p, &v, sizeof v);
    else
        bl_store_part(p, &v, n);
}

BL_AI v16f bl_select(v16i mask, v16f a, v16f b) {
    return (v16f)((mask & (v16i)a) | (~mask & (v16i)b));
}

/* a * b + c, fused where the CPU has FMA. Only the backward passes use it:
 * the forward keeps PyTorch's separate roundings. */
BL_AI v16f bl_fma(v16f a, v16f b, v16f c) {
#if defined(__AVX512F__)
    return (v16f)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#elif defined(__FMA__)
    union { v16f v; __m256 h[2]; } ua = {a}, ub = {b}, uc = {c};
    ua.h[0] = _mm256_fmadd_ps(ua.h[0], ub.h[0], uc.h[0]);
    ua.h[1] = _mm256_fmadd_ps(ua.h[1], ub.h[1], uc.h[1]);
    return ua.v;
#else
    return a * b + c;
#endif
}

/* 1 / d. AVX-512's 14-bit estimate plus one Newton step is within float
 * rounding and avoids the slow 512-bit division. */
BL_AI v16f bl_recip(v16f d) {
#if defined(__AVX512F__)
    const v16f r = (v16f)_mm512_rcp14_ps((__m512)d);
    return r * (2.0f - d * r);
#else
    return 1.0f / d;
#endif
}

BL_AI float bl_hsum(v16f v) {
    float s = 0.0f;
    for (int l = 0; l < BL_VL; l++) s += v[l];
    return s;
}

/* out[i] += sum of the lanes of v[i], i < 16. A shuffle tree: 15 vector adds
 * instead of 240 scalar ones. The tree leaves lane l holding input
 * bitrev4(l), so the inputs are taken in bit-reversed order. */
BL_AI void bl_hsum16_add(const v16f *v, float *out) {
    static const int rev[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
    const v16i l1 = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
    const v16i h1 = l1 + 8;
    const v16i l2 = {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27};
    const v16i h2 = l2 + 4;
    const v16i l3 = {0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29};
    const v16i h3 = l3 + 2;
    const v16i l4 = {0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30};
    const v16i h4 = l4 + 1;
    v16f a[8], b[4], c[2];
    for (int i = 0; i < 8; i++) {
        const v16f x = v[rev[2 * i]], y = v[rev[2 * i + 1]];
        a[i] = __builtin_shuffle(x, y, l1) + __builtin_shuffle(x, y, h1);
    }
    for (int i = 0; i < 4; i++)
        b[i] = __builtin_shuffle(a[2 * i], a[2 * i + 1], l2) +
               __builtin_shuffle(a[2 * i], a[2 * i + 1], h2);
    for (int i = 0; i < 2; i++)
        c[i] = __builtin_shuffle(b[2 * i], b[2 * i + 1], l3) +
               __builtin_shuffle(b[2 * i], b[2 * i + 1], h3);
    const v16f sums = __builtin_shuffle(c[0], c[1], l4) + __builtin_shuffle(c[0], c[1], h4);
    v16f cur;
    memcpy(&cur, out, sizeof cur);
    cur += sums;
    memcpy(out, &cur, sizeof cur);
}

/* out[i] += sum of the lanes of v[i], i < n; v must hold a multiple of 16
 * vectors, those past n zero. */
BL_AI void bl_hsum_add(const v16f *v, int n, float *out) {
    int i = 0;
    for (; i + BL_VL <= n; i += BL_VL) bl_hsum16_add(v + i, out + i);
    if (i < n) {
        float tail[BL_VL] = {0};
        bl_hsum16_add(v + i, tail);
        for (int k = 0; i + k < n; k++) out[i + k] += tail[k];
    }
}

/* exp(x) with Cephes' expf polynomial (max error ~2 ulp); vectorises where
 * libm's expf would not. Only sigmoids use it, whose values are compared with
 * a tolerance, so it may use FMAs. AVX-512 scales by 2**k in one instruction
 * (which also saturates to 0 / inf); elsewhere the exponent bits are built by
 * hand from a clamped x. */
BL_AI v16f bl_exp(v16f x) {
#if defined(__AVX512F__)
    /* exp(88.7) overflows; 1 / (1 + inf) would turn into NaN after the Newton
     * step of bl_recip. x second: a NaN x stays NaN. */
    x = (v16f)_mm512_min_ps(_mm512_set1_ps(88.0f), (__m512)x);
    const __m512 fx = _mm512_roundscale_ps((__m512)(x * 1.44269504088896341f),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
#else
    const v16f hi = (v16f){0} + 88.0f, lo = (v16f){0} - 87.0f;
    x = bl_select(x > hi, hi, x);
    x = bl_select(x < lo, lo, x);
    v16f fx = x * 1.44269504088896341f;
    fx = (fx + 12582912.0f) - 12582912.0f; /* round to nearest integer */
#endif
    v16f r = bl_fma((v16f)fx, (v16f){0} - 0.693359375f, x);
    r = bl_fma((v16f)fx, (v16f){0} + 2.12194440e-4f, r);
    v16f p = bl_fma(r, (v16f){0} + 1.9875691500e-4f, (v16f){0} + 1.3981999507e-3f);
    p = bl_fma(p, r, (v16f){0} + 8.3334519073e-3f);
    p = bl_fma(p, r, (v16f){0} + 4.1665795894e-2f);
    p = bl_fma(p, r, (v16f){0} + 1.6666665459e-1f);
    p = bl_fma(p, r, (v16f){0} + 5.0000001201e-1f);
    p = bl_fma(p, r * r, r + 1.0f);
#if defined(__AVX512F__)
    return (v16f)_mm512_scalef_ps((__m512)p, fx);
#else
    const v16i scale = (__builtin_convertvector(fx, v16i) + 127) << 23;
    return p * (v16f)scale;
#endif
}

BL_AI v16f bl_sigmoid(v16f u) { return bl_recip(1.0f + bl_exp(-u)); }

/* 1.0 where mask is set, else 0.0. */
BL_AI v16f bl_mask01(v16i mask) { return (v16f)(mask & ((v16i){0} + 0x3f800000)); }

#endif
