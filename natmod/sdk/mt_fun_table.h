// SPDX-License-Identifier: MIT
// Indices of the MicroPython runtime function table (mpy v6.3) used by the SDK, and a typed
// way to read an entry. Private to natmod/sdk: modules use the functions of mt_natmod.h.
// Indices and signatures: ../../docs/sdk.md and NATMOD_FACTS section 2. New entries are only
// ever appended to the table, so these indices stay valid.
#ifndef MT_FUN_TABLE_H
#define MT_FUN_TABLE_H

#include <stdint.h>

// The runtime's table, one word per entry. The linker resolves this undefined symbol.
extern void *const mp_fun_table[];

enum {
    MT_FT_CONST_NONE = 0,
    MT_FT_CONST_FALSE = 1,
    MT_FT_CONST_TRUE = 2,
    MT_FT_NATIVE_FROM_OBJ = 3,  // uintptr (obj, type)
    MT_FT_NATIVE_TO_OBJ = 4,    // obj (uintptr value, type)
    MT_FT_SWAP_GLOBALS = 5,     // dict* (dict*)
    MT_FT_LOAD_GLOBAL = 7,      // obj (qstr); falls back to builtins
    MT_FT_STORE_GLOBAL = 13,    // void (qstr, obj)
    MT_FT_BINARY_OP = 18,       // obj (int op, obj lhs, obj rhs)
    MT_FT_NEW_TUPLE = 19,       // obj (size_t n, const obj *items)
    MT_FT_CALL_FUNCTION = 27,   // obj (obj fun, size_t n_args | n_kw << 8, const obj *args)
    MT_FT_RAISE = 34,           // void (obj exception)
    MT_FT_RAISE_MSG = 55,       // noreturn (type*, const char *msg); NULL on some firmware
    MT_FT_NEW_STR = 57,         // obj (const char *, size_t)
    MT_FT_NEW_FLOAT_F = 60,     // obj (float)
    MT_FT_NEW_FLOAT_D = 61,     // obj (double)
    MT_FT_GET_FLOAT_F = 62,     // float (obj)
    MT_FT_GET_FLOAT_D = 63,     // double (obj)
    MT_FT_GET_BUFFER = 65,      // bool (obj, buffer*, unsigned flags)
};

// native_from_obj / native_to_obj conversion types.
enum {
    MT_NATIVE_OBJ = 0,
    MT_NATIVE_BOOL = 1,
    MT_NATIVE_INT = 2,
    MT_NATIVE_QSTR = 8,  // native_to_obj only: the str object of a qstr
};

// Binary ops are numbered as in bytecode, so their numbers are fixed for .mpy version 6.
enum {
    MT_BINARY_OP_EQUAL = 2,
};

// Entry `index` of the table as a value of type `type` (a function pointer or an object).
#define MT_FT(index, type) ((type)mp_fun_table[index])

#endif
