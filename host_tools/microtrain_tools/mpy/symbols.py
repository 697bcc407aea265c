# SPDX-License-Identifier: MIT
"""What an undefined symbol means to a natmod, and where a resolved symbol lives.

The conventions the C side relies on (docs/linker.md): `mp_fun_table`, `mt_qstr_<name>`,
`mp_native_qstr_table`, and the data entries of mp_fun_table (`mp_type_*`, stream objects).
"""

from dataclasses import dataclass

from .mpy_format import (
    FUN_TABLE_DATA_SYMBOLS,
    K_BSS,
    K_FUN_TABLE,
    K_FUN_VALUE,
    K_QSTR_TABLE,
    K_RODATA,
    K_TEXT,
)

QSTR_SYMBOL_PREFIX = "mt_qstr_"
QSTR_TABLE_SYMBOL = "mp_native_qstr_table"
FUN_TABLE_SYMBOL = "mp_fun_table"
GOT_SYMBOL = "_GLOBAL_OFFSET_TABLE_"
MEM_FUNCTIONS = ("memset", "memcpy", "memmove")


@dataclass(frozen=True)
class Target:
    """Where a symbol resolves: a region of the loaded module and an offset in it.

    region: "text" (code, rodata, GOT: the one blob), "rodata" (the separate rodata blob of
    xtensawin), "bss", "qstr" (offset = byte offset in
    the runtime qstr table), "fun_table" (offset 0), "fun_value" (offset = table index),
    "null" (an undefined weak symbol: the value 0), "absolute" (an address fixed outside the
    module, e.g. ESP8266 ROM functions from --externs; offset = the address).
    """

    region: str
    offset: int = 0

    @property
    def loader_kind(self) -> int | None:
        """The loader relocation that turns this offset into an address (None: none needed)."""
        return {
            "text": K_TEXT,
            "rodata": K_RODATA,
            "bss": K_BSS,
            "qstr": K_QSTR_TABLE,
            "fun_table": K_FUN_TABLE,
        }.get(self.region, K_FUN_VALUE + self.offset if self.region == "fun_value" else None)

    @property
    def stored_offset(self) -> int:
        """What a word pointing here holds before the loader adds the base."""
        return 0 if self.region in ("fun_table", "fun_value", "null") else self.offset

    def describe(self) -> str:
        if self.region in ("text", "rodata", "bss"):
            return f"{self.region}+{self.offset:#x}"
        if self.region == "qstr":
            return f"qstr_table[{self.offset // 2}]"
        if self.region == "fun_value":
            return f"mp_fun_table[{self.offset}]"
        if self.region == "absolute":
            return f"absolute {self.offset:#x}"
        return self.region


def special_target(name: str, qstr_index) -> Target | None:
    """The target of an undefined symbol the runtime provides, or None if it is not one.

    qstr_index(name) returns the module qstr table index of a string, adding it if new.
    """
    if name == FUN_TABLE_SYMBOL:
        return Target("fun_table")
    if name == QSTR_TABLE_SYMBOL:
        return Target("qstr", 0)
    if name.startswith(QSTR_SYMBOL_PREFIX) and len(name) > len(QSTR_SYMBOL_PREFIX):
        return Target("qstr", 2 * qstr_index(name[len(QSTR_SYMBOL_PREFIX) :]))
    if name in FUN_TABLE_DATA_SYMBOLS:
        return Target("fun_value", FUN_TABLE_DATA_SYMBOLS[name])
    return None


def missing_symbol_advice(name: str, arch_name: str = "", have_libs: bool = False) -> str:
    if name in MEM_FUNCTIONS:
        return (
            f"gcc emits calls to {name} for struct copies and zeroing; the natmod SDK must "
            f"define {name} (natmod/sdk), or link an object that defines it"
        )
    if name.startswith("__") and arch_name == "xtensa" and have_libs:
        return (
            "Debian's lx106 libgcc lacks it; the ESP8266 ROM has it: pass the ROM symbol "
            "list with --externs (eagle.rom.addr.v6.ld from the ESP8266 SDK)"
        )
    if name.startswith("__"):
        return (
            "it is a compiler helper: link libgcc with --libgcc "
            "(or --lib $(CC <arch flags> -print-libgcc-file-name))"
        )
    if name.startswith("mp_") or name.startswith("m_"):
        return (
            "MicroPython functions are not linked into a natmod: call them through "
            "mp_fun_table (natmod/sdk)"
        )
    return "define it in one of the objects, or pass the library that defines it with --lib"
