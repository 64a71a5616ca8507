/* ABI description of the packed engine (see bitlogic_abi.h), checked against
 * bitlogic/backends/packed_native.py on load. */
#include "bitlogic_abi.h"
#include "packed.h"

static const bitlogic_abi_entry abi[] = {
    BITLOGIC_ABI_VALUE(BL_PACKED_ABI_VERSION),
    BITLOGIC_ABI_SIZEOF(bl_net),
    BITLOGIC_ABI_OFFSETOF(bl_net, num_inputs),
    BITLOGIC_ABI_OFFSETOF(bl_net, num_layers),
    BITLOGIC_ABI_OFFSETOF(bl_net, num_classes),
    BITLOGIC_ABI_OFFSETOF(bl_net, group_size),
    BITLOGIC_ABI_OFFSETOF(bl_net, max_width),
    BITLOGIC_ABI_OFFSETOF(bl_net, num_features),
    BITLOGIC_ABI_OFFSETOF(bl_net, tau),
    BITLOGIC_ABI_OFFSETOF(bl_net, thresholds),
    BITLOGIC_ABI_OFFSETOF(bl_net, bit_feature),
    BITLOGIC_ABI_OFFSETOF(bl_net, rank),
    BITLOGIC_ABI_OFFSETOF(bl_net, width),
    BITLOGIC_ABI_OFFSETOF(bl_net, idx_off),
    BITLOGIC_ABI_OFFSETOF(bl_net, idx),
    BITLOGIC_ABI_OFFSETOF(bl_net, lut_off),
    BITLOGIC_ABI_OFFSETOF(bl_net, tt),
    BITLOGIC_ABI_OFFSETOF(bl_net, run_off),
    BITLOGIC_ABI_OFFSETOF(bl_net, runs),
    BITLOGIC_ABI_VALUE(BL_X_U8_BITS),
    BITLOGIC_ABI_VALUE(BL_X_F32_BITS),
    BITLOGIC_ABI_VALUE(BL_X_F32_FEATURES),
    BITLOGIC_ABI_END,
};

const bitlogic_abi_entry *bitlogic_abi(void) { return abi; }
