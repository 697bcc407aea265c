// SPDX-License-Identifier: MIT
// The SDK's functions: each is a typed call of one runtime table entry (mt_fun_table.h).
#include "mt_natmod.h"
#include "mt_fun_table.h"

// ---- module init -------------------------------------------------------------------------

mt_globals mt_module_begin(mt_obj self) {
    // self is the module's code object: word 1 is its context, and word 1 of the context is
    // the module's globals dict (NATMOD_FACTS section 3). Stores go there until module_end.
    void *const *code = (void *const *)self;
    void *const *context = (void *const *)code[1];
    return MT_FT(MT_FT_SWAP_GLOBALS, mt_globals (*)(mt_globals))(context[1]);
}

void mt_module_end(mt_globals previous) {
    MT_FT(MT_FT_SWAP_GLOBALS, mt_globals (*)(mt_globals))(previous);
}

void mt_export(size_t qstr, const void *fun_obj) {
    // The runtime never writes through a function object, so dropping const is safe.
    MT_FT(MT_FT_STORE_GLOBAL, void (*)(size_t, mt_obj))(qstr, (mt_obj)(uintptr_t)fun_obj);
}

// ---- objects -----------------------------------------------------------------------------

mt_obj mt_none(void) {
    return MT_FT(MT_FT_CONST_NONE, mt_obj);
}

mt_obj mt_bool(bool value) {
    return value ? MT_FT(MT_FT_CONST_TRUE, mt_obj) : MT_FT(MT_FT_CONST_FALSE, mt_obj);
}

bool mt_is_none(mt_obj o) {
    return o == mt_none();
}

static uintptr_t native_from_obj(mt_obj o, uintptr_t type) {
    return MT_FT(MT_FT_NATIVE_FROM_OBJ, uintptr_t (*)(mt_obj, uintptr_t))(o, type);
}

static mt_obj native_to_obj(uintptr_t value, uintptr_t type) {
    return MT_FT(MT_FT_NATIVE_TO_OBJ, mt_obj (*)(uintptr_t, uintptr_t))(value, type);
}

mt_obj mt_int(intptr_t value) {
    return native_to_obj((uintptr_t)value, MT_NATIVE_INT);
}

static bool int_equals(mt_obj a, mt_obj b) {
    mt_obj eq = MT_FT(MT_FT_BINARY_OP, mt_obj (*)(int, mt_obj, mt_obj))(MT_BINARY_OP_EQUAL, a, b);
    return eq == MT_FT(MT_FT_CONST_TRUE, mt_obj);
}

// An int (or bool) whose value survives the trip through `bits` bits: the runtime truncates
// big ints to a word, so box the truncated value again and compare. A small int comes back as
// the very same handle (no allocation, no comparison call); only values outside the small-int
// range (+-2^30 on 32-bit ports) cost a big int and an equality test. No bit of any object is
// inspected, so this holds on every object representation.
static intptr_t get_checked_int(mt_obj o, unsigned bits, const char *too_large) {
    uintptr_t word = native_from_obj(o, MT_NATIVE_INT);  // TypeError for a non-int
    intptr_t value = (intptr_t)word;
    if (bits < sizeof(intptr_t) * 8) {
        // Sign-extend the low `bits` bits (bits is 32 here, on a 64-bit word).
        uintptr_t sign = (uintptr_t)1 << (bits - 1);
        uintptr_t low = word & ((sign << 1) - 1u);
        value = (intptr_t)(low ^ sign) - (intptr_t)sign;
    }
    mt_obj back = native_to_obj((uintptr_t)value, MT_NATIVE_INT);
    if (back != o && !int_equals(back, o)) {
        mt_raise(MT_QSTR(OverflowError), too_large);
    }
    return value;
}

intptr_t mt_get_int(mt_obj o) {
    return get_checked_int(o, sizeof(intptr_t) * 8, "int too large");
}

int32_t mt_get_int32(mt_obj o) {
    return (int32_t)get_checked_int(o, 32, "int does not fit int32");
}

uintptr_t mt_get_int_bits(mt_obj o) {
    return native_from_obj(o, MT_NATIVE_INT);
}

mt_obj mt_float(float value) {
    return MT_FT(MT_FT_NEW_FLOAT_F, mt_obj (*)(float))(value);
}

float mt_get_float(mt_obj o) {
    return MT_FT(MT_FT_GET_FLOAT_F, float (*)(mt_obj))(o);
}

mt_obj mt_double(double value) {
    return MT_FT(MT_FT_NEW_FLOAT_D, mt_obj (*)(double))(value);
}

double mt_get_double(mt_obj o) {
    return MT_FT(MT_FT_GET_FLOAT_D, double (*)(mt_obj))(o);
}

mt_obj mt_str(const char *s, size_t n) {
    return MT_FT(MT_FT_NEW_STR, mt_obj (*)(const char *, size_t))(s, n);
}

static size_t c_string_length(const char *s) {
    size_t n = 0;
    while (s[n] != '\0') {
        n++;
    }
    return n;
}

mt_obj mt_str_c(const char *s) {
    return mt_str(s, c_string_length(s));
}

mt_obj mt_qstr_obj(size_t qstr) {
    return native_to_obj(qstr, MT_NATIVE_QSTR);
}

mt_obj mt_tuple(size_t n, const mt_obj *items) {
    return MT_FT(MT_FT_NEW_TUPLE, mt_obj (*)(size_t, const mt_obj *))(n, items);
}

// ---- buffers -----------------------------------------------------------------------------

bool mt_try_buffer(mt_obj o, mt_buffer *out, unsigned access) {
    // Without the runtime's "raise if unsupported" flag (4) this never raises.
    return MT_FT(MT_FT_GET_BUFFER, bool (*)(mt_obj, mt_buffer *, unsigned))(
        o, out, access | MT_BUF_READ);
}

void mt_get_buffer(mt_obj o, mt_buffer *out, unsigned access) {
    if (mt_try_buffer(o, out, access)) {
        return;
    }
    if ((access & MT_BUF_WRITE) && mt_try_buffer(o, out, MT_BUF_READ)) {
        mt_raise_type_error("buffer is read-only");
    }
    mt_raise_type_error("expected a buffer");
}

// ---- exceptions --------------------------------------------------------------------------

static mt_obj load_global(size_t qstr) {
    return MT_FT(MT_FT_LOAD_GLOBAL, mt_obj (*)(size_t))(qstr);
}

// Build exc_type(message) and raise it: works on firmware without raise_msg (entry 55).
static MT_NORETURN void raise_with_str(mt_obj exc_type, mt_obj message) {
    mt_obj exc = MT_FT(MT_FT_CALL_FUNCTION, mt_obj (*)(mt_obj, size_t, const mt_obj *))(
        exc_type, 1, &message);
    MT_FT(MT_FT_RAISE, void (*)(mt_obj))(exc);
    __builtin_unreachable();  // raise only returns for None, and exc is an exception
}

typedef void (*raise_msg_fn)(mt_obj exc_type, const char *msg);

void mt_raise(size_t exc_qstr, const char *msg) {
    mt_obj exc_type = load_global(exc_qstr);
    raise_msg_fn raise_msg = MT_FT(MT_FT_RAISE_MSG, raise_msg_fn);
#ifdef MT_SDK_TEST_NO_RAISE_MSG
    raise_msg = NULL;  // a test build: take the path of firmware without raise_msg
#endif
    if (raise_msg != NULL) {
        raise_msg(exc_type, msg);  // keeps the pointer: msg is a constant of the module's text
        __builtin_unreachable();
    }
    raise_with_str(exc_type, mt_str_c(msg));
}

void mt_raise_copy(size_t exc_qstr, const char *msg, size_t n) {
    raise_with_str(load_global(exc_qstr), mt_str(msg, n));
}

void mt_raise_type_error(const char *msg) {
    mt_raise(MT_QSTR(TypeError), msg);
}

void mt_raise_value_error(const char *msg) {
    mt_raise(MT_QSTR(ValueError), msg);
}

void mt_raise_index_error(const char *msg) {
    mt_raise(MT_QSTR(IndexError), msg);
}

void mt_message_init(mt_message *m) {
    m->len = 0;
    m->text[0] = '\0';
}

void mt_message_add(mt_message *m, const char *s) {
    while (*s != '\0' && m->len + 1 < sizeof(m->text)) {
        m->text[m->len++] = *s++;
    }
    m->text[m->len] = '\0';
}

// Powers of ten that fit a word, largest first: digits come out by subtraction, so the SDK
// needs no division helper from libgcc (armv6m and xtensa have no divide instruction).
static const uintptr_t powers_of_ten[] = {
#if UINTPTR_MAX > 0xFFFFFFFFu
    10000000000000000000u, 1000000000000000000u, 100000000000000000u, 10000000000000000u,
    1000000000000000u, 100000000000000u, 10000000000000u, 1000000000000u, 100000000000u,
    10000000000u,
#endif
    1000000000u, 100000000u, 10000000u, 1000000u, 100000u, 10000u, 1000u, 100u, 10u, 1u,
};

void mt_message_add_int(mt_message *m, intptr_t value) {
    char digits[24];
    size_t n = 0;
    // Work on the magnitude as unsigned so that INTPTR_MIN does not overflow.
    uintptr_t magnitude = value < 0 ? (uintptr_t)0 - (uintptr_t)value : (uintptr_t)value;
    if (value < 0) {
        digits[n++] = '-';
    }
    bool started = false;
    for (size_t i = 0; i < sizeof(powers_of_ten) / sizeof(powers_of_ten[0]); i++) {
        char digit = '0';
        while (magnitude >= powers_of_ten[i]) {
            magnitude -= powers_of_ten[i];
            digit++;
        }
        started = started || digit != '0' || powers_of_ten[i] == 1u;
        if (started) {
            digits[n++] = digit;
        }
    }
    digits[n] = '\0';
    mt_message_add(m, digits);
}

void mt_raise_message(size_t exc_qstr, const mt_message *m) {
    mt_raise_copy(exc_qstr, m->text, m->len);
}
