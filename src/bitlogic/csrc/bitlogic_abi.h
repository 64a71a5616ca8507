/* The ABI description every bitlogic C library exports.
 *
 * bitlogic_abi() returns a table of (name, value) pairs -- struct sizes,
 * field offsets, enum values, a version -- terminated by {NULL, 0}. Python
 * (bitlogic.native.Library) compares it on load with the values its ctypes
 * mirrors and constants expect, so a struct or enum edited on one side only
 * fails with a message naming each mismatch instead of corrupting memory.
 *
 * Write the table with the macros below; their names are what Python's
 * bitlogic.native.struct_abi() produces ("sizeof(bl_layer)",
 * "offsetof(bl_layer, rank)") and the constant's own name for values.
 */
#ifndef BITLOGIC_ABI_H
#define BITLOGIC_ABI_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;
    int64_t value;
} bitlogic_abi_entry;

#define BITLOGIC_ABI_SIZEOF(type) {"sizeof(" #type ")", (int64_t)sizeof(type)}
#define BITLOGIC_ABI_OFFSETOF(type, field) \
    {"offsetof(" #type ", " #field ")", (int64_t)offsetof(type, field)}
#define BITLOGIC_ABI_VALUE(name) {#name, (int64_t)(name)}
#define BITLOGIC_ABI_END {NULL, 0}

/* The table, terminated by BITLOGIC_ABI_END. */
const bitlogic_abi_entry *bitlogic_abi(void);

#endif
