/* The 4-word (256-sample) build of the packed engine: the same sources,
 * compiled again as one translation unit with BL_WORDS 4 (see packed.h). */
#define BL_WORDS 4
#include "packed.c"
#include "packed_input.c"
#include "packed_layers.c"
