/* ABI description of the training kernels (see bitlogic_abi.h), checked
 * against bitlogic/kernels/_library.py on load. */
#include "bitlogic_abi.h"
#include "train_layer.h"

static const bitlogic_abi_entry abi[] = {
    BITLOGIC_ABI_VALUE(BL_TRAIN_ABI_VERSION),
    BITLOGIC_ABI_SIZEOF(bl_layer),
    BITLOGIC_ABI_OFFSETOF(bl_layer, rank),
    BITLOGIC_ABI_OFFSETOF(bl_layer, basis),
    BITLOGIC_ABI_OFFSETOF(bl_layer, sampling),
    BITLOGIC_ABI_OFFSETOF(bl_layer, nthreads),
    BITLOGIC_ABI_OFFSETOF(bl_layer, batch),
    BITLOGIC_ABI_OFFSETOF(bl_layer, in_dim),
    BITLOGIC_ABI_OFFSETOF(bl_layer, out_dim),
    BITLOGIC_ABI_OFFSETOF(bl_layer, temperature),
    BITLOGIC_ABI_OFFSETOF(bl_layer, xT),
    BITLOGIC_ABI_OFFSETOF(bl_layer, idx),
    BITLOGIC_ABI_OFFSETOF(bl_layer, coeffs),
    BITLOGIC_ABI_OFFSETOF(bl_layer, noiseT),
    BITLOGIC_ABI_SIZEOF(bl_route),
    BITLOGIC_ABI_OFFSETOF(bl_route, dxT),
    BITLOGIC_ABI_OFFSETOF(bl_route, scratch),
    BITLOGIC_ABI_OFFSETOF(bl_route, cand),
    BITLOGIC_ABI_OFFSETOF(bl_route, probs),
    BITLOGIC_ABI_OFFSETOF(bl_route, dprobs),
    BITLOGIC_ABI_OFFSETOF(bl_route, num_candidates),
    BITLOGIC_ABI_OFFSETOF(bl_route, spread),
    BITLOGIC_ABI_OFFSETOF(bl_route, exclusive),
    BITLOGIC_ABI_VALUE(BL_BASIS_INDICATOR),
    BITLOGIC_ABI_VALUE(BL_BASIS_WALSH),
    BITLOGIC_ABI_VALUE(BL_BASIS_LINEAR),
    BITLOGIC_ABI_VALUE(BL_SAMPLE_NONE),
    BITLOGIC_ABI_VALUE(BL_SAMPLE_SOFT),
    BITLOGIC_ABI_VALUE(BL_SAMPLE_HARD),
    BITLOGIC_ABI_VALUE(BL_SAMPLE_HARD_BERNOULLI),
    BITLOGIC_ABI_VALUE(BL_SAMPLE_GUMBEL_SOFT),
    BITLOGIC_ABI_VALUE(BL_SAMPLE_GUMBEL_HARD),
    BITLOGIC_ABI_VALUE(BL_OK),
    BITLOGIC_ABI_VALUE(BL_BAD_RANK),
    BITLOGIC_ABI_VALUE(BL_BAD_BASIS),
    BITLOGIC_ABI_VALUE(BL_BAD_SAMPLING),
    BITLOGIC_ABI_VALUE(BL_BAD_CANDIDATES),
    BITLOGIC_ABI_VALUE(BL_MAX_CANDIDATES),
    BITLOGIC_ABI_END,
};

const bitlogic_abi_entry *bitlogic_abi(void) { return abi; }
