# SPDX-License-Identifier: MIT
"""Runs a linked natmod .mpy for ARM Cortex-M or RV32 in the unicorn CPU emulator.

A small loader does what MicroPython's does (copy text, zeroed BSS, apply the relocation
ops), and a fake mp_fun_table answers the few runtime entries the fixtures call. So the
linker's output is executed, not just decoded, on arches CI has no firmware for.
Object model (REPR_A): small int (v << 1) | 1, qstr object (q << 3) | 2, None 0x6.
"""

import struct

from microtrain_tools.mpy.mpy_format import FUN_TABLE_INDEX_NAMES
from microtrain_tools.mpy.reader import MpyFile

TEXT_BASE = 0x0001_0000
BSS_BASE = 0x0020_0000
QSTR_TABLE = 0x0030_0000
FUN_TABLE = 0x0031_0000
TRAPS = 0x0040_0000  # one returning instruction per fun_table entry
TYPES = 0x0041_0000  # fake type objects for entries 73..86
DATA = 0x0042_0000  # the self/context objects given to mpy_init, call arguments
STACK = 0x0050_0000
STACK_SIZE = 0x10000
STOP = 0x0060_0000  # return address of top-level calls
N_ENTRIES = 87
QSTR_BASE_NUMBER = 1000  # runtime qstr number of module qstr i is 1000 + i
NONE = 0x6


class EmulatedRaise(Exception):
    def __init__(self, exc_name, message):
        super().__init__(f"{exc_name}: {message}")
        self.exc_name, self.message = exc_name, message


def small_int(v: int) -> int:
    return ((v << 1) | 1) & 0xFFFFFFFF


def from_small_int(o: int) -> int:
    v = o >> 1
    return v - (1 << 31) if v & (1 << 30) else v


class Machine:
    def __init__(self, arch: str, mpy: MpyFile):
        import unicorn

        self.uc_mod = unicorn
        self.arch = arch
        self.mpy = mpy
        self.thumb = arch.startswith("arm")
        if self.thumb:
            import unicorn.arm_const as c

            self.c = c
            if arch == "armv7emdp":
                # unicorn's Cortex-M7 has no double-precision VFP: run the Thumb-2 code on a
                # Cortex-A15 (VFPv4 with doubles) in Thumb state instead.
                self.uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB)
                self.uc.ctl_set_cpu_model(c.UC_CPU_ARM_CORTEX_A15)
                self.uc.reg_write(c.UC_ARM_REG_C1_C0_2, 0xF00000)  # CPACR: CP10/CP11 on
                self.uc.reg_write(c.UC_ARM_REG_FPEXC, 0x40000000)  # FPEXC.EN
            else:
                mode = unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS
                self.uc = unicorn.Uc(unicorn.UC_ARCH_ARM, mode)
                cpu = {
                    "armv6m": c.UC_CPU_ARM_CORTEX_M0,
                    "armv7m": c.UC_CPU_ARM_CORTEX_M3,
                    "armv7emsp": c.UC_CPU_ARM_CORTEX_M4,
                }[arch]
                self.uc.ctl_set_cpu_model(cpu)
            self.args = [c.UC_ARM_REG_R0, c.UC_ARM_REG_R1, c.UC_ARM_REG_R2, c.UC_ARM_REG_R3]
            self.sp, self.lr, self.pc = c.UC_ARM_REG_SP, c.UC_ARM_REG_LR, c.UC_ARM_REG_PC
            ret_insn = struct.pack("<HH", 0x4770, 0xBF00)  # bx lr; nop
        else:
            import unicorn.riscv_const as c

            self.c = c
            self.uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV32)
            self.args = [getattr(c, f"UC_RISCV_REG_A{i}") for i in range(8)]
            self.sp, self.lr, self.pc = c.UC_RISCV_REG_SP, c.UC_RISCV_REG_RA, c.UC_RISCV_REG_PC
            ret_insn = struct.pack("<I", 0x00008067)  # ret
        self.globals: dict[str, int] = {}
        self.raised = None
        self._map(mpy, ret_insn)

    # -- loader --------------------------------------------------------------------------
    def _map(self, mpy: MpyFile, ret_insn: bytes) -> None:
        uc = self.uc
        text_len = (len(mpy.text) + 0xFFF) & ~0xFFF or 0x1000
        for base, size in (
            (TEXT_BASE, text_len),
            (BSS_BASE, 0x10000),
            (QSTR_TABLE, 0x10000),
            (FUN_TABLE, 0x10000),
            (TRAPS, 0x1000),
            (TYPES, 0x1000),
            (DATA, 0x10000),
            (STACK, STACK_SIZE),
            (STOP, 0x1000),
        ):
            uc.mem_map(base, size)
        uc.mem_write(TRAPS, ret_insn * N_ENTRIES)
        uc.mem_write(STOP, ret_insn)
        table = []
        for i in range(N_ENTRIES):
            if i in FUN_TABLE_INDEX_NAMES:
                table.append(TYPES + 16 * (i - 73))
            elif i == 0:
                table.append(NONE)
            else:
                table.append(TRAPS + 4 * i + (1 if self.thumb else 0))
        self.fun_table = table
        uc.mem_write(FUN_TABLE, struct.pack(f"<{N_ENTRIES}I", *table))
        qnums = [QSTR_BASE_NUMBER + i for i in range(len(mpy.qstrs))]
        uc.mem_write(QSTR_TABLE, struct.pack(f"<{len(qnums)}H", *qnums))
        text = bytearray(mpy.text)
        bases = {0: TEXT_BASE, 4: BSS_BASE, 6: QSTR_TABLE, 8: FUN_TABLE}
        for r in mpy.relocs:
            assert r.blob == "text", r
            add = bases[r.kind] if r.kind in bases else table[r.kind - 9]
            (word,) = struct.unpack_from("<I", text, r.offset)
            struct.pack_into("<I", text, r.offset, (word + add) & 0xFFFFFFFF)
        uc.mem_write(TEXT_BASE, bytes(text))
        uc.hook_add(
            self.uc_mod.UC_HOOK_CODE, self._trap, begin=TRAPS, end=TRAPS + 4 * N_ENTRIES - 1
        )
        # self = {type, context}; context = {type, globals, qstr_table, obj_table}
        uc.mem_write(DATA, struct.pack("<8I", 0, DATA + 16, 0, 0, 0, 0xD1C7, QSTR_TABLE, 0))

    def qstr_name(self, q: int) -> str:
        return self.mpy.qstrs[q - QSTR_BASE_NUMBER]

    def read_cstr(self, addr: int) -> str:
        raw = bytes(self.uc.mem_read(addr, 256))
        return raw[: raw.index(0)].decode()

    # -- the fake runtime ----------------------------------------------------------------
    def _trap(self, uc, address, size, user_data):
        index = (address - TRAPS) // 4
        a = [uc.reg_read(r) for r in self.args[:4]]
        if index == 3:  # native_from_obj(o, type int)
            result = from_small_int(a[0]) & 0xFFFFFFFF
        elif index == 4:  # native_to_obj(v, type): int or qstr object
            result = small_int(a[0]) if a[1] == 2 else ((a[0] << 3) | 2) & 0xFFFFFFFF
        elif index == 5:  # swap_globals
            result = 0
        elif index == 7:  # load_global(qstr): a qstr object standing for the global
            result = (a[0] << 3) | 2
        elif index == 13:  # store_global(qstr, obj)
            self.globals[self.qstr_name(a[0])] = a[1]
            result = 0
        elif index == 55:  # raise_msg(type, msg)
            self.raised = EmulatedRaise(self.qstr_name(a[0] >> 3), self.read_cstr(a[1]))
            uc.emu_stop()
            return
        else:
            raise AssertionError(f"fixture called unexpected mp_fun_table[{index}]")
        uc.reg_write(self.args[0], result & 0xFFFFFFFF)

    def call(self, address: int, *args: int) -> int:
        uc = self.uc
        for reg, value in zip(self.args, args):
            uc.reg_write(reg, value & 0xFFFFFFFF)
        uc.reg_write(self.sp, STACK + STACK_SIZE - 64)
        uc.reg_write(self.lr, STOP | (1 if self.thumb else 0))
        self.raised = None
        uc.emu_start(address | (1 if self.thumb else 0), STOP, timeout=5_000_000, count=2_000_000)
        if self.raised:
            raise self.raised
        if uc.reg_read(self.pc) & ~1 != STOP:
            raise AssertionError(f"call did not return (pc {uc.reg_read(self.pc):#x})")
        return uc.reg_read(self.args[0])

    def init(self) -> None:
        self.call(TEXT_BASE, DATA, 0, 0, 0)

    def call_export(self, name: str, *int_args: int) -> int:
        """Calls a builtin function object stored by mpy_init; ints in, int out."""
        obj = self.globals[name]
        type_ptr, word1, word2 = struct.unpack("<3I", self.uc.mem_read(obj, 12))
        index = 73 + (type_ptr - TYPES) // 16
        boxed = [small_int(v) for v in int_args]
        if FUN_TABLE_INDEX_NAMES[index] == "mp_type_fun_builtin_var":
            self.uc.mem_write(DATA + 0x100, struct.pack(f"<{len(boxed)}I", *boxed))
            result = self.call(word2, len(boxed), DATA + 0x100)
        else:
            assert FUN_TABLE_INDEX_NAMES[index] == f"mp_type_fun_builtin_{len(boxed)}", name
            result = self.call(word1, *boxed)
        return result

    def int_result(self, name: str, *int_args: int) -> int:
        return from_small_int(self.call_export(name, *int_args))
