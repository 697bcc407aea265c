# SPDX-License-Identifier: MIT
"""Constants of the .mpy v6.3 container and of the loader's relocation ops (NATMOD_FACTS 1, 2)."""

from dataclasses import dataclass

MAGIC = 0x4D  # 'M'
VERSION = 6
SUB_VERSION = 3
SMALL_INT_BITS = 31  # what a natmod needs; every runtime has at least this
ARCH_FLAGS_BIT = 0x40
VIPER_KIND_BITS = 2  # kind 4 (viper) - 2, no children

SCOPE_RELOC = 0x10
SCOPE_RODATA = 0x20
SCOPE_BSS = 0x40

# Loader relocation kinds (k): what the loader adds to the word at the cursor.
K_TEXT = 0
K_RODATA = 2
K_BSS = 4
K_QSTR_TABLE = 6
K_OBJ_TABLE = 7
K_FUN_TABLE = 8
K_FUN_VALUE = 9  # k = 9 + i adds the value of mp_fun_table[i]
K_COUNT_KINDS = (K_TEXT, K_RODATA, K_BSS)  # k+1 is the same with a run count
OP_END = 0xFF

# mp_fun_table entries that are data (type and stream object pointers), by C symbol name.
FUN_TABLE_DATA_SYMBOLS = {
    "mp_type_type": 73,
    "mp_type_str": 74,
    "mp_type_list": 75,
    "mp_type_dict": 76,
    "mp_type_fun_builtin_0": 77,
    "mp_type_fun_builtin_1": 78,
    "mp_type_fun_builtin_2": 79,
    "mp_type_fun_builtin_3": 80,
    "mp_type_fun_builtin_var": 81,
    "mp_type_Exception": 82,
    "mp_stream_read_obj": 83,
    "mp_stream_readinto_obj": 84,
    "mp_stream_unbuffered_readline_obj": 85,
    "mp_stream_write_obj": 86,
}
FUN_TABLE_INDEX_NAMES = {i: name for name, i in FUN_TABLE_DATA_SYMBOLS.items()}


@dataclass(frozen=True)
class LoaderReloc:
    """One relocated word: the loader adds the base named by `kind` to the word at `offset`."""

    offset: int  # byte offset inside its blob, a multiple of the word size
    kind: int
    blob: str = "text"  # "text" or "rodata"


def kind_name(kind: int) -> str:
    names = {
        K_TEXT: "text",
        K_RODATA: "rodata",
        K_BSS: "bss",
        K_QSTR_TABLE: "qstr_table",
        K_OBJ_TABLE: "obj_table",
        K_FUN_TABLE: "&mp_fun_table",
    }
    if kind in names:
        return names[kind]
    index = kind - K_FUN_VALUE
    label = FUN_TABLE_INDEX_NAMES.get(index, "")
    return f"mp_fun_table[{index}]" + (f" ({label})" if label else "")
