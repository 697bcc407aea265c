// SPDX-License-Identifier: MIT
// The native module `_microtrain`: its exports, and nothing else.
#include "mt_module.h"

MT_QSTR_DECLARE(info);
MT_QSTR_DECLARE(op);
MT_QSTR_DECLARE(op_count);
MT_QSTR_DECLARE(op_info);
MT_QSTR_DECLARE(dot_s8);
MT_QSTR_DECLARE(f32_bits);
MT_QSTR_DECLARE(f32_from_bits);
MT_QSTR_DECLARE(requant);
MT_QSTR_DECLARE(run);
MT_QSTR_DECLARE(check);
MT_QSTR_DECLARE(typecode);

MT_FUN_OBJ_0(info_obj, mt_module_info);
// op(op_id, args, *bufs)
MT_FUN_OBJ_VAR(op_obj, 2, 2 + MT_MODULE_MAX_BUFS, mt_module_op);
MT_FUN_OBJ_0(op_count_obj, mt_module_op_count);
MT_FUN_OBJ_1(op_info_obj, mt_module_op_info);
MT_FUN_OBJ_2(dot_s8_obj, mt_module_dot_s8);
MT_FUN_OBJ_1(f32_bits_obj, mt_module_f32_bits);
MT_FUN_OBJ_1(f32_from_bits_obj, mt_module_f32_from_bits);
MT_FUN_OBJ_3(requant_obj, mt_module_requant);
// run(program, arena, weights, params, x, y, out) and check(...) with the same arguments
MT_FUN_OBJ_VAR(run_obj, 7, 7, mt_module_run);
MT_FUN_OBJ_VAR(check_obj, 7, 7, mt_module_check);
MT_FUN_OBJ_1(typecode_obj, mt_module_typecode);

mt_obj mpy_init(mt_obj self, size_t n_args, size_t n_kw, mt_obj *args) {
    (void)n_args;
    (void)n_kw;
    (void)args;
    mt_globals previous = mt_module_begin(self);
    mt_export(MT_QSTR(info), &info_obj);
    mt_export(MT_QSTR(op), &op_obj);
    mt_export(MT_QSTR(op_count), &op_count_obj);
    mt_export(MT_QSTR(op_info), &op_info_obj);
    mt_export(MT_QSTR(dot_s8), &dot_s8_obj);
    mt_export(MT_QSTR(f32_bits), &f32_bits_obj);
    mt_export(MT_QSTR(f32_from_bits), &f32_from_bits_obj);
    mt_export(MT_QSTR(requant), &requant_obj);
    mt_export(MT_QSTR(run), &run_obj);
    mt_export(MT_QSTR(check), &check_obj);
    mt_export(MT_QSTR(typecode), &typecode_obj);
    mt_module_end(previous);
    return mt_none();
}
