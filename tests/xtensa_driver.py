# SPDX-License-Identifier: MIT
"""The bare-metal driver that runs module functions on an emulated Xtensa core (qemu's `sim`
machine), written in assembly here and assembled with llvm-mc; and a minimal ELF writer to
hand it to qemu with -kernel.

The driver sets up the stack, the vector base, the register window (windowed cores) and the
FPU, then loops: at `wait_point` (where the host keeps a breakpoint) it reads a function
address and six word arguments from the mailbox, calls the function, and stores the result
and the CCOUNT difference. Any exception stores EXCCAUSE/EPC1/EXCVADDR and stops at
`fault_stop`. Calls into the MicroPython runtime (mp_fun_table) land on `runtime_call`, which
stops the same way: the kernels and the executor must not need the runtime.

Windowed cores get the window overflow/underflow handlers (the standard sequences of the Xtensa
ISA) and, for qemu's de233_fpu, which lacks the MUL32_HIGH option that ESP32 and ESP32-S3
have, a user-exception handler that executes `mulsh`/`muluh` (illegal there) in software and
counts them, so the module's own bytes run unchanged.
"""

import struct
import subprocess
from dataclasses import dataclass

from elftools.elf.elffile import ELFFile

# Mailbox words (byte offsets).
MB_FUNCTION, MB_ARGS, MB_RESULT, MB_STATE, MB_CCOUNT = 0, 4, 28, 32, 36
MB_EXCCAUSE, MB_EPC1, MB_EXCVADDR, MB_EMULATED = 40, 44, 48, 52
MB_SIZE = 0x100  # the handler's register save area follows
N_ARGS = 6
STATE_DONE, STATE_FAULT, STATE_RUNTIME_CALL = 1, 2, 3
VECTORS_AT = 0x1000  # offset of the vector table in the driver (VECBASE, 4 KiB aligned)

# Standard windowed-ABI spill/fill sequences (Xtensa ISA reference, register window option).
WINDOW_VECTORS = """
    .org {v} + 0x000
_window_overflow4:
    s32e a0, a5, -16
    s32e a1, a5, -12
    s32e a2, a5, -8
    s32e a3, a5, -4
    rfwo
    .org {v} + 0x040
_window_underflow4:
    l32e a0, a5, -16
    l32e a1, a5, -12
    l32e a2, a5, -8
    l32e a3, a5, -4
    rfwu
    .org {v} + 0x080
_window_overflow8:
    s32e a0, a9, -16
    l32e a0, a1, -12
    s32e a1, a9, -12
    s32e a2, a9, -8
    s32e a3, a9, -4
    s32e a4, a0, -32
    s32e a5, a0, -28
    s32e a6, a0, -24
    s32e a7, a0, -20
    rfwo
    .org {v} + 0x0c0
_window_underflow8:
    l32e a1, a9, -12
    l32e a0, a9, -16
    l32e a7, a1, -12
    l32e a2, a9, -8
    l32e a3, a9, -4
    l32e a4, a7, -32
    l32e a5, a7, -28
    l32e a6, a7, -24
    l32e a7, a7, -20
    rfwu
    .org {v} + 0x100
_window_overflow12:
    s32e a0, a13, -16
    l32e a0, a1, -12
    s32e a1, a13, -12
    s32e a2, a13, -8
    s32e a3, a13, -4
    s32e a4, a0, -48
    s32e a5, a0, -44
    s32e a6, a0, -40
    s32e a7, a0, -36
    s32e a8, a0, -32
    s32e a9, a0, -28
    s32e a10, a0, -24
    s32e a11, a0, -20
    rfwo
    .org {v} + 0x140
_window_underflow12:
    l32e a1, a13, -12
    l32e a0, a13, -16
    l32e a11, a1, -12
    l32e a2, a13, -8
    l32e a3, a13, -4
    l32e a4, a11, -48
    l32e a5, a11, -44
    l32e a6, a11, -40
    l32e a7, a11, -36
    l32e a8, a11, -32
    l32e a9, a11, -28
    l32e a10, a11, -24
    l32e a11, a11, -20
    rfwu
"""

# mulsh/muluh ar, as, at (RRR: op0 0, op1 2, op2 0xB/0xA) on a core without MUL32_HIGH.
# The interrupted a0..a15 go to the save area, the high word is formed from 16-bit products,
# written to a[r]'s slot, and everything is restored. Other exceptions: fault_common.
MUL32_HIGH_EMULATION = """
user_exception:
    l32r    a2, .Lsave
    s32i    a0, a2, 0
    s32i    a1, a2, 4
    s32i    a3, a2, 12
    s32i    a4, a2, 16
    s32i    a5, a2, 20
    s32i    a6, a2, 24
    s32i    a7, a2, 28
    s32i    a8, a2, 32
    s32i    a9, a2, 36
    s32i    a10, a2, 40
    s32i    a11, a2, 44
    s32i    a12, a2, 48
    s32i    a13, a2, 52
    s32i    a14, a2, 56
    s32i    a15, a2, 60
    rsr     a3, excsave1
    s32i    a3, a2, 8
    rsr     a3, exccause
    bnez    a3, .Lnot_mul32_high        # 0: illegal instruction
    rsr     a3, epc1
    l8ui    a4, a3, 0                   # op0 | t << 4
    l8ui    a5, a3, 1                   # s | r << 4
    l8ui    a6, a3, 2                   # op1 | op2 << 4
    extui   a7, a4, 0, 4
    bnez    a7, .Lnot_mul32_high
    extui   a7, a6, 0, 4
    bnei    a7, 2, .Lnot_mul32_high
    extui   a7, a6, 4, 4
    addi    a7, a7, -10                 # 0: muluh, 1: mulsh
    bgeui   a7, 2, .Lnot_mul32_high
    j       .Lmul32_high
.Lnot_mul32_high:
    j       fault_common
.Lmul32_high:
    neg     a15, a7                     # all ones for mulsh
    extui   a14, a5, 4, 4
    addx4   a14, a14, a2                # &saved a[r]
    extui   a8, a5, 0, 4
    addx4   a8, a8, a2
    l32i    a10, a8, 0                  # a[s]
    extui   a8, a4, 4, 4
    addx4   a8, a8, a2
    l32i    a11, a8, 0                  # a[t]
    extui   a12, a10, 0, 16
    extui   a13, a10, 16, 16
    extui   a8, a11, 0, 16
    extui   a9, a11, 16, 16
    mul16u  a3, a12, a8                 # low * low
    mul16u  a4, a12, a9                 # low(s) * high(t)
    mul16u  a5, a13, a8                 # high(s) * low(t)
    mul16u  a6, a13, a9                 # high * high
    extui   a7, a3, 16, 16
    extui   a8, a4, 0, 16
    add     a7, a7, a8
    extui   a8, a5, 0, 16
    add     a7, a7, a8
    extui   a7, a7, 16, 16                  # carry out of the middle column
    add     a6, a6, a7
    extui   a8, a4, 16, 16
    add     a6, a6, a8
    extui   a8, a5, 16, 16
    add     a6, a6, a8                  # unsigned high word
    srai    a12, a10, 31
    and     a12, a12, a11               # s < 0 ? t : 0
    srai    a13, a11, 31
    and     a13, a13, a10               # t < 0 ? s : 0
    add     a12, a12, a13
    and     a12, a12, a15               # signed correction for mulsh only
    sub     a6, a6, a12
    s32i    a6, a14, 0
    l32r    a3, .Lmailbox
    l32i    a4, a3, {emulated}
    addi    a4, a4, 1
    s32i    a4, a3, {emulated}
    rsr     a3, epc1
    addi    a3, a3, 3
    wsr     a3, epc1
    l32i    a0, a2, 0
    l32i    a1, a2, 4
    l32i    a3, a2, 12
    l32i    a4, a2, 16
    l32i    a5, a2, 20
    l32i    a6, a2, 24
    l32i    a7, a2, 28
    l32i    a8, a2, 32
    l32i    a9, a2, 36
    l32i    a10, a2, 40
    l32i    a11, a2, 44
    l32i    a12, a2, 48
    l32i    a13, a2, 52
    l32i    a14, a2, 56
    l32i    a15, a2, 60
    l32i    a2, a2, 8
    rfe
"""


# calibrate(n) executes 2n + 2 instructions; calibrate_mulsh(n) one mulsh more: the host
# derives CCOUNT per instruction, the driver's own cost and the mulsh handler's (xtensa_core).
CALIBRATION_WINDOWED = """
    .p2align 2
calibrate:
    entry   a1, 32
1:  addi    a2, a2, -1
    bnez    a2, 1b
    retw
    .p2align 2
calibrate_mulsh:
    entry   a1, 32
    mulsh   a3, a2, a2
1:  addi    a2, a2, -1
    bnez    a2, 1b
    retw
    .p2align 2
probe_mulsh:
    entry   a1, 32
    mulsh   a2, a2, a3
    retw
    .p2align 2
probe_muluh:
    entry   a1, 32
    muluh   a4, a3, a2
    mov     a2, a4
    retw
"""
CALIBRATION_CALL0 = """
    .p2align 2
calibrate:
    addi    a2, a2, -1
    bnez    a2, calibrate
    ret
"""


def call_sequence(callx: str, box: str, first_arg: int, temps) -> str:
    """Load the function and arguments from the mailbox, call, store result and CCOUNT
    difference, mark done, wait again."""
    t0, t1, t2 = temps
    loads = "".join(f"    l32i    a{first_arg + i}, {box}, {MB_ARGS + 4 * i}\n"
                    for i in range(N_ARGS))
    return f"""
    l32i    a8, {box}, {MB_FUNCTION}
{loads}    rsr     {t0}, ccount
    {callx}  a8
    rsr     {t1}, ccount
    s32i    a{first_arg}, {box}, {MB_RESULT}
    sub     {t1}, {t1}, {t0}
    s32i    {t1}, {box}, {MB_CCOUNT}
    movi    {t2}, {STATE_DONE}
    s32i    {t2}, {box}, {MB_STATE}
    j       wait_point"""


def driver_source(windowed: bool, base: int, mailbox: int, stack_top: int) -> str:
    vecbase = base + VECTORS_AT
    # PS: EXCM clear, user vector mode (UM), and for windowed cores WOE (window exceptions on).
    ps = 0x00040020 if windowed else 0x00000020
    if windowed:
        setup = """
    movi    a2, 1
    wsr     a2, windowstart
    movi    a2, 0
    wsr     a2, windowbase
    rsync
    movi    a2, 1
    wsr     a2, cpenable                # the FPU is coprocessor 0
    l32r    a2, .Lps
    wsr     a2, ps
    rsync
    call8   driver_loop
    .p2align 2
driver_loop:
    entry   a1, 32
    l32r    a2, .Lmailbox
wait_point:"""
        # Windowed: the callee sees a10.. as its a2..; a2-a7 survive callx8.
        call = call_sequence("callx8", box="a2", first_arg=10, temps=("a3", "a4", "a5"))
        call += """
runtime_call:
    entry   a1, 32"""
        vectors = WINDOW_VECTORS.format(v=VECTORS_AT)
        first_slot = 0x180
        user_vector = "wsr a2, excsave1\n    j user_exception"
        extra = MUL32_HIGH_EMULATION.format(emulated=MB_EMULATED)
        calibration = CALIBRATION_WINDOWED
    else:
        setup = """
    l32r    a2, .Lps
    wsr     a2, ps
    rsync
    l32r    a12, .Lmailbox
wait_point:"""
        # call0: arguments in a2..a7; a12-a15 are callee-saved.
        call = call_sequence("callx0", box="a12", first_arg=2, temps=("a13", "a14", "a15"))
        call += """
runtime_call:"""
        vectors, first_slot, user_vector, extra = "", 0, None, ""
        calibration = CALIBRATION_CALL0
    # Every other vector slot (they are 16-byte aligned on every configuration) is a fault.
    slots = []
    for offset in range(first_slot, 0x400, 0x10):
        body = user_vector if (user_vector and offset == 0x340) else "j fault_common"
        slots.append(f"    .org {VECTORS_AT + offset:#x}\n    {body}\n")
    return f"""
    .text
    .global _start
_start:
    j       .Lstart
    .p2align 2
.Lmailbox:  .long {mailbox:#x}
.Lstack:    .long {stack_top:#x}
.Lvecbase:  .long {vecbase:#x}
.Lps:       .long {ps:#x}
.Lsave:     .long {mailbox + MB_SIZE:#x}
.Lstart:
    l32r    a1, .Lstack
    l32r    a2, .Lvecbase
    wsr     a2, vecbase
    rsync
{setup}
{call}
    l32r    a2, .Lmailbox
    movi    a3, {STATE_RUNTIME_CALL}
    s32i    a3, a2, {MB_STATE}
    j       fault_stop
{calibration}
fault_common:
    l32r    a2, .Lmailbox
    rsr     a3, exccause
    s32i    a3, a2, {MB_EXCCAUSE}
    rsr     a3, epc1
    s32i    a3, a2, {MB_EPC1}
    rsr     a3, excvaddr
    s32i    a3, a2, {MB_EXCVADDR}
    movi    a3, {STATE_FAULT}
    s32i    a3, a2, {MB_STATE}
fault_stop:                             # the host's breakpoint; then start over:
    j       .Lstart                     # stack, window, PS (EXCM off) set up anew
{extra}
{vectors}
{"".join(slots)}
"""


def reset_trampoline_source(target: int) -> str:
    """Code for the reset vector that jumps to `target`: qemu's sim machine starts at the
    reset vector whatever the ELF's entry. No literals (l32r reaches only below the vector)."""
    top = target >> 20
    top = top - 4096 if top >= 2048 else top  # movi takes a signed 12-bit value
    return f"""
    .text
    movi    a2, {top}
    slli    a2, a2, 10
    movi    a3, {(target >> 10) & 0x3FF}
    add     a2, a2, a3
    slli    a2, a2, 10
    movi    a3, {target & 0x3FF}
    add     a2, a2, a3
    jx      a2
"""


LABELS = ("wait_point", "fault_stop", "runtime_call", "_start", "calibrate", "calibrate_mulsh",
          "probe_mulsh", "probe_muluh")


@dataclass
class Driver:
    code: bytes  # to load at its base address
    labels: dict  # name -> offset in code: wait_point, fault_stop, runtime_call
    reset: bytes  # to load at the core's reset vector: a jump to the driver's start


def assemble_driver(llvm_mc: str, windowed: bool, base: int, mailbox: int, stack_top: int,
                    work_dir) -> Driver:
    cpu = "esp32" if windowed else "esp8266"
    code, labels = _assemble(llvm_mc, cpu, driver_source(windowed, base, mailbox, stack_top),
                             work_dir / f"driver-{cpu}")
    reset, _ = _assemble(llvm_mc, cpu, reset_trampoline_source(base + labels["_start"]),
                         work_dir / f"reset-{cpu}")
    return Driver(code, labels, reset)


def _assemble(llvm_mc: str, cpu: str, source_text: str, stem):
    source, obj = stem.with_suffix(".s"), stem.with_suffix(".o")
    source.write_text(source_text)
    proc = subprocess.run([llvm_mc, "-arch=xtensa", f"-mcpu={cpu}", "-filetype=obj",
                           str(source), "-o", str(obj)], capture_output=True, text=True)
    assert proc.returncode == 0, f"assembling {source.name} failed:\n{proc.stderr}"
    with open(obj, "rb") as f:
        elf = ELFFile(f)
        assert elf.get_section_by_name(".rela.text") is None, "the driver must need no linker"
        symtab = elf.get_section_by_name(".symtab")
        labels = {s.name: s["st_value"] for s in symtab.iter_symbols()
                  if s.name in LABELS}
        return elf.get_section_by_name(".text").data(), labels


def write_elf(path, entry: int, segments) -> None:
    """An ELF32 little-endian Xtensa executable: one PT_LOAD per (address, bytes) segment,
    no sections (qemu's loader reads program headers only)."""
    header_size, phdr_size = 52, 32
    offset = header_size + phdr_size * len(segments)
    phdrs, blobs = b"", b""
    for address, data in segments:
        phdrs += struct.pack("<8I", 1, offset + len(blobs), address, address, len(data),
                             len(data), 7, 4)
        blobs += data + bytes(-len(data) % 4)
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    header = ident + struct.pack("<HHIIIIIHHHHHH", 2, 94, 1, entry, header_size, 0, 0,
                                 header_size, phdr_size, len(segments), 40, 0, 0)
    path.write_bytes(header + phdrs + blobs)
