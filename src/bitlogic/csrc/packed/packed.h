/* Bit-packed LUT-network inference engine: shared types.
 *
 * Samples are packed along machine words: bit b of word w of a block vector
 * is sample w*64+b of the block. One bl_vec holds BL_BLOCK samples of one
 * signal (an input bit or a LUT output); GCC's vector extension lowers the
 * bit operations to AVX-512 (one zmm), AVX2 (two ymm) or scalar words,
 * whatever -march=native offers, so the same source is correct everywhere.
 *
 * The library holds two builds of the engine: 8 words (512 samples) per
 * block from these files as they are, and 4 words (256 samples) from
 * packed_w4.c, which includes them with BL_WORDS 4. Exported names carry the
 * width (bl_run_w8, bl_run_w4). Python picks the wider build when two levels
 * of activations fit in half the L2 cache and the narrower one otherwise.
 */
#ifndef BITLOGIC_PACKED_H
#define BITLOGIC_PACKED_H

#include <stdint.h>

/* Bump when an entry point's signature changes (checked by Python, see
 * bitlogic_abi.h and packed_abi.c). */
#define BL_PACKED_ABI_VERSION 2

#ifndef BL_WORDS
#define BL_WORDS 8
#endif
#define BL_BLOCK (64 * BL_WORDS)
#define BL_CAT2(name, words) name##_w##words
#define BL_CAT(name, words) BL_CAT2(name, words)
#define BL_NAME(name) BL_CAT(name, BL_WORDS)

typedef uint64_t bl_vec __attribute__((vector_size(8 * BL_WORDS)));

/* Input kinds accepted by bl_run. */
enum { BL_X_U8_BITS = 0, BL_X_F32_BITS = 1, BL_X_F32_FEATURES = 2 };

/* A netlist prepared by bitlogic.backends.packed_program (Python).
 * LUTs are stored in "storage order": a per-layer permutation that groups
 * rank-1/2 LUTs of the same function into runs; indices are already remapped
 * to the previous level's storage order, and the last layer keeps each
 * class's group contiguous, so GroupSum reads storage ranges. */
typedef struct {
    int32_t num_inputs;
    int32_t num_layers;
    int32_t num_classes;
    int32_t group_size;
    int32_t max_width;          /* max(num_inputs, widths) */
    int32_t num_features;       /* 0 without an encoding */
    float tau;
    const float *thresholds;    /* [num_inputs]: threshold of input bit i */
    const int32_t *bit_feature; /* [num_inputs]: feature compared by input bit i */
    const int32_t *rank;        /* [num_layers] */
    const int32_t *width;       /* [num_layers] */
    const int64_t *idx_off;     /* [num_layers] offset into idx */
    const int32_t *idx;         /* (width, rank) per layer, storage order */
    const int64_t *lut_off;     /* [num_layers] offset into tt */
    const uint64_t *tt;         /* per LUT: bit a = output at MSB-first address a */
    const int64_t *run_off;     /* [num_layers + 1] offset into runs (triples) */
    const int32_t *runs;        /* (code, start, end) for rank-1/2 layers */
} bl_net;

/* packed_input.c: pack rows [row0, row0 + nrows) of x into num_inputs vectors.
 * `rows` is scratch for 64 * ceil(num_inputs / 64) words. Returns the
 * smallest flat index of a non-binary value, or INT64_MAX. */
int64_t BL_NAME(bl_pack_block)(const bl_net *net, const void *x, int32_t kind, int64_t row0,
                               int64_t nrows, uint64_t *rows, bl_vec *act);

/* packed_layers.c: evaluate layer l from `in` (previous level) into `out`. */
void BL_NAME(bl_eval_layer)(const bl_net *net, int32_t l, const bl_vec *in, bl_vec *out);

#endif
