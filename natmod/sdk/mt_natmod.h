// SPDX-License-Identifier: MIT
// mt_natmod: a small clean-room runtime header for MicroPython dynamic native modules.
//
// Everything goes through the runtime's function table `mp_fun_table` (an undefined symbol the
// linker points at the runtime's table), so the module never depends on how the firmware
// represents objects: an mt_obj is an opaque handle. Only representation-independent
// operations are used (ints through the table's native_from_obj/native_to_obj entries, None
// from entry 0, floats through the float entries), so one source works on unix x64 (REPR_A,
// 8-byte words) and on 32-bit ports with REPR_A or REPR_C. See docs/sdk.md.
//
// Rules for code that uses it (the linker enforces most of them):
//   - no static or hidden writable globals, no initialised writable data; const tables are fine;
//   - function objects are const objects made with MT_FUN_OBJ_* at file scope;
//   - names are qstrs: declare with MT_QSTR_DECLARE(name) at file scope, use MT_QSTR(name);
//   - functions marked MT_NORETURN raise a Python exception by a long jump: hold no resource
//     other than GC memory across any call into the runtime.
#ifndef MT_NATMOD_H
#define MT_NATMOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MT_NORETURN __attribute__((noreturn))

// An object handle of the runtime. Never inspect its bits: they depend on the port.
typedef void *mt_obj;

// ---- qstrs -------------------------------------------------------------------------------
// The linker turns an undefined `mt_qstr_<name>` into the runtime's qstr number of the string
// <name>, read as a uint16. Declare each name once per file, at file scope.
#define MT_QSTR_DECLARE(name) extern const uint16_t mt_qstr_##name
#define MT_QSTR(name) ((size_t)mt_qstr_##name)

MT_QSTR_DECLARE(TypeError);
MT_QSTR_DECLARE(ValueError);
MT_QSTR_DECLARE(IndexError);
MT_QSTR_DECLARE(OverflowError);

// ---- function objects --------------------------------------------------------------------
// The type of a builtin function object is a value of the runtime's table; the linker
// resolves these undefined names to entries 77..81. Their contents are never read here.
struct mt_runtime_type;
extern const struct mt_runtime_type mp_type_fun_builtin_0;
extern const struct mt_runtime_type mp_type_fun_builtin_1;
extern const struct mt_runtime_type mp_type_fun_builtin_2;
extern const struct mt_runtime_type mp_type_fun_builtin_3;
extern const struct mt_runtime_type mp_type_fun_builtin_var;

// Layouts the runtime expects (NATMOD_FACTS section 3): {type, fun} for 0..3 fixed args,
// {type, uint32 signature, fun} for a variable count. The runtime checks the arg count.
typedef struct {
    const struct mt_runtime_type *type;
    mt_obj (*fun)(void);
} mt_fun_obj_0;
typedef struct {
    const struct mt_runtime_type *type;
    mt_obj (*fun)(mt_obj);
} mt_fun_obj_1;
typedef struct {
    const struct mt_runtime_type *type;
    mt_obj (*fun)(mt_obj, mt_obj);
} mt_fun_obj_2;
typedef struct {
    const struct mt_runtime_type *type;
    mt_obj (*fun)(mt_obj, mt_obj, mt_obj);
} mt_fun_obj_3;
typedef struct {
    const struct mt_runtime_type *type;
    uint32_t signature;
    mt_obj (*fun)(size_t n_args, const mt_obj *args);
} mt_fun_obj_var;

// Largest argument count a variable-argument function can declare.
#define MT_VAR_ARGS_MAX 0xFFFF

// Define a const function object `obj_name` for the C function `c_fun`.
#define MT_FUN_OBJ_0(obj_name, c_fun) \
    static const mt_fun_obj_0 obj_name = {&mp_type_fun_builtin_0, c_fun}
#define MT_FUN_OBJ_1(obj_name, c_fun) \
    static const mt_fun_obj_1 obj_name = {&mp_type_fun_builtin_1, c_fun}
#define MT_FUN_OBJ_2(obj_name, c_fun) \
    static const mt_fun_obj_2 obj_name = {&mp_type_fun_builtin_2, c_fun}
#define MT_FUN_OBJ_3(obj_name, c_fun) \
    static const mt_fun_obj_3 obj_name = {&mp_type_fun_builtin_3, c_fun}
// n_min..n_max positional arguments, no keywords.
#define MT_FUN_OBJ_VAR(obj_name, n_min, n_max, c_fun)                                        \
    static const mt_fun_obj_var obj_name = {&mp_type_fun_builtin_var,                        \
                                            ((uint32_t)(n_min) << 17) | ((uint32_t)(n_max) << 1), \
                                            c_fun}

// ---- module init -------------------------------------------------------------------------
// The entry point every module defines; the import calls it once with the module's code
// object. Write it as: begin, one mt_export per name, end.
//   mt_obj mpy_init(mt_obj self, size_t n_args, size_t n_kw, mt_obj *args) {
//       mt_globals old = mt_module_begin(self);
//       mt_export(MT_QSTR(info), &info_obj);
//       mt_module_end(old);
//       return mt_none();
//   }
typedef void *mt_globals;
mt_obj mpy_init(mt_obj self, size_t n_args, size_t n_kw, mt_obj *args);
mt_globals mt_module_begin(mt_obj self);
void mt_module_end(mt_globals previous);
// Store a function object (or any object) in the module under the name qstr.
void mt_export(size_t qstr, const void *fun_obj);

// ---- objects -----------------------------------------------------------------------------
mt_obj mt_none(void);
mt_obj mt_bool(bool value);
bool mt_is_none(mt_obj o);

// mt_get_int accepts an int or bool that fits intptr_t, mt_get_int32 one that fits int32;
// another type raises TypeError, a larger int OverflowError (never a silent truncation).
// mt_int takes any value (it makes a big int when needed).
mt_obj mt_int(intptr_t value);
intptr_t mt_get_int(mt_obj o);
int32_t mt_get_int32(mt_obj o);
// The low word of an int of any size, two's complement (bit patterns); TypeError for a non-int.
uintptr_t mt_get_int_bits(mt_obj o);

// Floats: the _f entries of the table, so a float crosses it in the arch's own float ABI.
// The module must be built for the firmware's exact FPU arch (soft vs hard float differ).
// mt_get_float accepts float, int and bool; another type raises TypeError. On firmware built
// without float support both raise RuntimeError.
mt_obj mt_float(float value);
float mt_get_float(mt_obj o);
mt_obj mt_double(double value);
double mt_get_double(mt_obj o);

// A str object with a copy of the n bytes of s (UTF-8); mt_str_c takes a NUL-terminated s.
mt_obj mt_str(const char *s, size_t n);
mt_obj mt_str_c(const char *s);
// The str object of a qstr (no allocation).
mt_obj mt_qstr_obj(size_t qstr);
// A tuple of n items (copied).
mt_obj mt_tuple(size_t n, const mt_obj *items);

// ---- buffers -----------------------------------------------------------------------------
// Same layout as the runtime's buffer info. len is in bytes. typecode is the array typecode
// ('b', 'B', 'h', 'i', 'f', ...); bytes and str report 'B', a bytearray reports 1.
typedef struct {
    void *data;
    size_t len;
    int typecode;
} mt_buffer;

#define MT_TYPECODE_BYTEARRAY 1

enum {
    MT_BUF_READ = 1,
    MT_BUF_WRITE = 2,  // refused by bytes, str and read-only memoryviews
};

// Fill *out and return true if o offers a buffer with the access asked; never raises.
bool mt_try_buffer(mt_obj o, mt_buffer *out, unsigned access);
// Fill *out or raise TypeError ("expected a buffer", "buffer is read-only").
void mt_get_buffer(mt_obj o, mt_buffer *out, unsigned access);

// ---- exceptions --------------------------------------------------------------------------
// Raise the builtin exception named by qstr with a message. mt_raise keeps a pointer to msg,
// so msg must be a string constant; mt_raise_copy copies n bytes (for composed messages).
MT_NORETURN void mt_raise(size_t exc_qstr, const char *msg);
MT_NORETURN void mt_raise_copy(size_t exc_qstr, const char *msg, size_t n);
MT_NORETURN void mt_raise_type_error(const char *msg);
MT_NORETURN void mt_raise_value_error(const char *msg);
MT_NORETURN void mt_raise_index_error(const char *msg);

// A short message composed on the stack, for mt_raise_copy: "buffer 2: expected ...".
typedef struct {
    char text[80];
    size_t len;  // excess text is cut, the result is always NUL-terminated
} mt_message;

void mt_message_init(mt_message *m);
void mt_message_add(mt_message *m, const char *s);
void mt_message_add_int(mt_message *m, intptr_t value);
MT_NORETURN void mt_raise_message(size_t exc_qstr, const mt_message *m);

#endif
