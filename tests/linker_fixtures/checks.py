# SPDX-License-Identifier: MIT
"""What the fixture module must compute, and checks of a linked module's words."""

from microtrain_tools.mpy.mpy_format import FUN_TABLE_DATA_SYMBOLS, K_FUN_VALUE, K_TEXT
from microtrain_tools.mpy.reader import read_mpy

# export -> [(int args, int result)]: worked out by hand from fx_main.c / fx_other.c.
EXPECTED = {
    "call_chain": [((5,), 16), ((-2,), -5)],
    "table_call": [((0,), 10), ((1,), 4), ((2,), 21)],
    "name_len": [((0,), 5), ((1,), 2), ((2,), 6), ((3,), 10)],
    "float_mix": [((4,), 12), ((10,), 30)],
    "dense": [((i,), r) for i, r in enumerate([11, 22, 38, 40, 64, 61, 79, 88, 97, -1])],
    "div64": [((10, 3), 3333343), ((-7, 2), -3500010)],
    "udiv32": [((100, 7), 16), ((1000, 10), 100)],
    "sum3": [((1, 2, 3), 6), ((4,), 4)],
}

FIXED_ARITY = {
    "call_chain": 1,
    "table_call": 1,
    "name_len": 1,
    "count": 0,
    "float_mix": 1,
    "dense": 1,
    "div64": 2,
    "udiv32": 2,
    "greet": 0,
    "fail": 0,
}


def check_linked_words(result, word_size: int, entry_at_zero: bool = True):
    """The header and sizes read back as linked, and every function object holds the right
    type entry and its function's address. Returns the decoded file."""
    mpy = read_mpy(result.out_path.read_bytes())
    assert mpy.arch == result.arch
    assert (mpy.text_size, mpy.bss_size) == (result.text_size, result.bss_size)
    assert len(mpy.relocs) == result.n_loader_relocs
    assert mpy.qstrs == result.qstrs and mpy.qstrs[0] == "fx.mpy"
    if entry_at_zero:
        assert result.symbols["mpy_init"].offset & ~1 == 0, "entry must be at text offset 0"
    kinds = {r.offset: r.kind for r in mpy.relocs}
    for name, n_args in FIXED_ARITY.items():
        obj = result.symbols[f"{name}_obj"].offset
        type_index = FUN_TABLE_DATA_SYMBOLS[f"mp_type_fun_builtin_{n_args}"]
        assert kinds[obj] == K_FUN_VALUE + type_index, name
        assert kinds[obj + word_size] == K_TEXT, name
        # The stored offset is the function's (with the Thumb bit on ARM).
        assert mpy.word_at("text", obj + word_size) == result.symbols[name].offset, name
    obj = result.symbols["sum3_obj"].offset
    assert kinds[obj] == K_FUN_VALUE + FUN_TABLE_DATA_SYMBOLS["mp_type_fun_builtin_var"]
    assert mpy.word_at("text", obj + word_size) == (1 << 17) | (3 << 1)
    assert mpy.word_at("text", obj + 2 * word_size) == result.symbols["sum3"].offset
    for r in mpy.relocs:
        if r.kind == K_TEXT:
            assert mpy.word_at("text", r.offset) < mpy.text_size, r
    return mpy


def run_expected(machine):
    """Calls every export in the emulator and compares with EXPECTED."""
    machine.init()
    for name, cases in EXPECTED.items():
        for args, want in cases:
            got = machine.int_result(name, *args)
            assert got == want, f"{name}{args} = {got}, expected {want}"
    assert [machine.int_result("count") for _ in range(3)] == [1, 2, 3]
    assert machine.qstr_name(machine.call_export("greet") >> 3) == "hello_world"
