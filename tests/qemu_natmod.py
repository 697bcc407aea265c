# SPDX-License-Identifier: MIT
"""Run MicroPython-side test scripts against a built .mpy on MicroPython firmware under qemu.

Not collected by pytest: CI has no firmware (we never commit MicroPython binaries). Build a
firmware of MicroPython's qemu port yourself (ports/qemu, e.g. BOARD=MPS2_AN385 for a
Cortex-M3 without FPU, BOARD=MPS2_AN500 for a Cortex-M7 with a double FPU; add
CFLAGS_EXTRA=-DMICROPY_OBJ_REPR=MICROPY_OBJ_REPR_C for the REPR_C object model), then:

    .venv/bin/python tests/qemu_natmod.py --firmware build-MPS2_AN385/firmware.elf \
        --machine mps2-an385 --mpy dist/armv7m/_microtrain.mpy \
        tests/micropython/natmod_errors.py tests/micropython/natmod_program.py

For RISC-V (BOARD=VIRT_RV32): --qemu qemu-system-riscv32 --machine virt
--qemu-args "-bios none -cpu rv32".

The files (the .mpy and any --file) are served from RAM by a small VFS written in Python and
mounted at /m (also the current folder), so the firmware needs no filesystem image. Scripts
that read a case file (natmod_dot.py, natmod_float.py) find it as cases.json: pass
--file cases.json. Talks to the raw REPL on the serial
port (qemu's stdio). Exit status 0 only if every script ran without an exception.
"""

import argparse
import select
import subprocess
import sys
import time
from pathlib import Path

RAW_REPL_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
CHUNK = 2048  # bytes of a file sent per REPL command (the firmware's heap is small)

# MicroPython code: a read-only VFS over a dict of name -> bytearray.
RAM_VFS = r"""
import io, os, sys, vfs
class _RamFile(io.IOBase):
    def __init__(self, data):
        self._data = data
        self._pos = 0
    def readinto(self, buf):
        n = min(len(buf), len(self._data) - self._pos)
        buf[:n] = self._data[self._pos:self._pos + n]
        self._pos += n
        return n
    def read(self, n=-1):
        end = len(self._data) if n < 0 else min(len(self._data), self._pos + n)
        out = bytes(self._data[self._pos:end])
        self._pos = end
        return out
    def ioctl(self, request, arg):
        return 0
class _RamFS:
    def __init__(self, files):
        self._files = files
    def mount(self, readonly, mkfs):
        pass
    def umount(self):
        pass
    def chdir(self, path):
        pass
    def getcwd(self):
        return ""
    def stat(self, path):
        path = path.strip("/")
        if not path:
            return (0x4000, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        if path in self._files:
            return (0x8000, 0, 0, 0, 0, 0, len(self._files[path]), 0, 0, 0)
        raise OSError(2)
    def open(self, path, mode):
        path = path.strip("/")
        if path not in self._files:
            raise OSError(2)
        if "b" in mode:
            return _RamFile(self._files[path])
        return io.StringIO(bytes(self._files[path]).decode())
_files = {}
"""
MOUNT = """
vfs.mount(_RamFS(_files), '/m')
sys.path.insert(0, '/m')
os.chdir('/m')
import gc
gc.collect()
"""


class Firmware:
    def __init__(
        self, firmware: Path, machine: str, timeout: float, qemu="qemu-system-arm", qemu_args=()
    ):
        self.timeout = timeout
        cmd = [qemu, "-machine", machine, "-nographic", "-monitor", "null", *qemu_args]
        cmd += ["-semihosting", "-kernel", str(firmware)]
        # Unbuffered: select() must see every byte that read(1) has not consumed yet.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)

    def close(self):
        self.proc.kill()
        self.proc.wait()

    def read_until(self, marker: bytes) -> bytes:
        data = b""
        deadline = time.monotonic() + self.timeout
        while not data.endswith(marker):
            ready, _, _ = select.select([self.proc.stdout], [], [], deadline - time.monotonic())
            byte = self.proc.stdout.read(1) if ready else b""
            if not byte:
                raise RuntimeError(f"firmware stopped answering; last output: {data[-300:]!r}")
            data += byte
        return data[: -len(marker)]

    def enter_raw_repl(self):
        time.sleep(1.0)  # let the banner go out
        self.proc.stdin.write(b"\r\x03\x03\x01")
        self.proc.stdin.flush()
        self.read_until(RAW_REPL_BANNER)

    def execute(self, code: str) -> tuple[str, str]:
        """Run code in the raw REPL; return (stdout, exception text)."""
        data = code.encode()
        for i in range(0, len(data), 256):  # small writes: the UART has a short FIFO
            self.proc.stdin.write(data[i : i + 256])
            self.proc.stdin.flush()
            time.sleep(0.01)
        self.proc.stdin.write(b"\x04")
        self.proc.stdin.flush()
        self.read_until(b"OK")
        out = self.read_until(b"\x04")
        err = self.read_until(b"\x04")
        self.read_until(b">")
        return out.decode(errors="replace"), err.decode(errors="replace")

    def must(self, code: str) -> str:
        out, err = self.execute(code)
        if err:
            raise RuntimeError(f"setup failed on the firmware: {err}")
        return out

    def upload(self, name: str, data: bytes):
        # One allocation of the final size: growing it would fragment the small heap.
        self.must(f"_files[{name!r}] = bytearray({len(data)})")
        for i in range(0, len(data), CHUNK):
            self.must(f"_files[{name!r}][{i}:{i + CHUNK}] = {data[i : i + CHUNK]!r}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firmware", required=True, type=Path)
    parser.add_argument("--machine", required=True, help="qemu machine, e.g. mps2-an385")
    parser.add_argument("--mpy", required=True, type=Path, help="the module to import")
    parser.add_argument("--file", action="append", default=[], type=Path, help="extra file")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--qemu", default="qemu-system-arm", help="e.g. qemu-system-riscv32")
    parser.add_argument(
        "--qemu-args", default="", help='extra qemu arguments, e.g. "-bios none -cpu rv32"'
    )
    parser.add_argument("scripts", nargs="+", type=Path)
    args = parser.parse_args(argv)

    failed = 0
    for script in args.scripts:
        fw = Firmware(args.firmware, args.machine, args.timeout, args.qemu, args.qemu_args.split())
        try:
            fw.enter_raw_repl()
            fw.must(RAM_VFS)
            fw.upload(args.mpy.name, args.mpy.read_bytes())
            for extra in args.file:
                fw.upload(extra.name, extra.read_bytes())
            fw.must(MOUNT)
            out, err = fw.execute(script.read_text())
        finally:
            fw.close()
        print(f"== {script.name} on {args.machine} with {args.mpy}")
        print(out, end="")
        if err:
            print(err, end="", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
