# SPDX-License-Identifier: MIT
"""C -> object through LLVM for arches whose clang driver takes no CPU (xtensawin: ESP32).

clang writes LLVM IR for the bare target, llc compiles it for the CPU (`-mcpu=esp32`) to
assembly, llvm-mc assembles it. Two workarounds for LLVM 22's Xtensa backend:
- a select between two float constants is rewritten as a select between their bit patterns:
  the backend turns the float form into a load from a two-entry constant table whose address
  it cannot materialise ("Cannot select ... TargetConstantPool"), and `x >= 0 ? 0.5f : -0.5f`
  (rounding) is in several kernels;
- llc's own object writer puts a function's literal pool right after the previous function's
  code, unaligned, where l32r cannot address it ("fixup value must be 4-byte aligned", or a
  wrong literal across sections); assembling llc's assembly puts the pools in .literal.*
  sections instead, which the linker places word-aligned below the code (relocs/xtensa.py).
"""

import re
import struct
import subprocess
from pathlib import Path

from ..errors import MicrotrainError

# `%5 = select i1 %4, float 5.000000e-01, float -5.000000e-01` (both operands constants)
_FLOAT_CONSTANT = r"(-?[0-9][0-9.e+-]*|0x[0-9A-Fa-f]{16})"
_SELECT_OF_FLOAT_CONSTANTS = re.compile(
    rf"^(\s*)(%[-\w.$]+) = select (i1 %[-\w.$]+), float {_FLOAT_CONSTANT}, "
    rf"float {_FLOAT_CONSTANT}\s*$"
)


def float_constant_bits(text: str) -> int:
    """The binary32 bits of an LLVM IR float constant: decimal, or the 16-digit hex form in
    which IR writes every float as the double of the same value."""
    if text.startswith("0x"):
        value = struct.unpack(">d", bytes.fromhex(text[2:]))[0]
    else:
        value = float(text)
    return struct.unpack("<I", struct.pack("<f", value))[0]


def rewrite_float_selects(ir: str) -> str:
    out = []
    for n, line in enumerate(ir.splitlines(keepends=True)):
        m = _SELECT_OF_FLOAT_CONSTANTS.match(line)
        if m is None:
            out.append(line)
            continue
        indent, name, cond, a, b = m.groups()
        bits = f"%mt.select.bits.{n}"
        out.append(f"{indent}{bits} = select {cond}, i32 {float_constant_bits(a)}, "
                   f"i32 {float_constant_bits(b)}\n")
        out.append(f"{indent}{name} = bitcast i32 {bits} to float\n")
    return "".join(out)


def compile_via_llvm(arch, clang: str, flags, source: Path, obj: Path) -> str:
    """Compile source to obj; returns clang's warnings. Raises MicrotrainError on failure."""
    ir_path, asm_path = obj.with_suffix(".ll"), obj.with_suffix(".s")
    steps = [[clang, *flags, "-S", "-emit-llvm", str(source), "-o", str(ir_path)],
             [arch.llc, *arch.llc_flags, str(ir_path), "-o", str(asm_path)],
             [arch.llvm_mc, *arch.mc_flags, "-filetype=obj", str(asm_path), "-o", str(obj)]]
    warnings = ""
    for i, cmd in enumerate(steps):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise MicrotrainError(
                f"compiling {source} failed:\n{_first_lines(proc.stderr)}\n"
                f"command: {' '.join(cmd)}"
            )
        if i == 0:
            warnings = proc.stderr.strip()
            ir_path.write_text(rewrite_float_selects(ir_path.read_text()))
    return warnings


def _first_lines(text: str, n: int = 20) -> str:
    # llc prints a long stack dump after the one line that matters.
    return "\n".join(text.strip().splitlines()[:n])
