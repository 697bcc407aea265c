# SPDX-License-Identifier: MIT
"""The C kernels as a host shared library: build it, load it with ctypes, run any op.

The library is libmicrotrain.so in the user cache (build_cache), compiled from natmod/kernels/*.c
and natmod/ops/*.c (the same sources as the native module) under a key that hashes the sources,
headers, flags and compiler, so an edit to a kernel builds a new one. Op names and ids
are read from the library's op table (mt_op_count / mt_op_get), never from a list kept here.

    from microtrain_tools import hostlib
    hostlib.op_ids()                       # {"mt_conv2d_s8_fwd": 1, ...}
    hostlib.run_op("mt_fc_s8_fwd", args, [mult, shift, x, w, b, out])   # writes `out`
"""

import atexit
import ctypes
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..mpy import build_cache
from ..mpy.build_cache import cached_file, digest
from ..errors import MicrotrainError
from ..paths import NATMOD_DIR

LIB_NAME = "libmicrotrain.so"
LIB_PATH = None  # set to build at this path instead of the cache (the sanitizer fuzzers do)
SOURCE_DIRS = (NATMOD_DIR / "kernels", NATMOD_DIR / "ops")
CFLAGS = ("-std=c99", "-O2", "-shared", "-fPIC", "-Wall", "-Wextra")
# Added after CFLAGS, and part of the cache key: tests build the x64 SIMD levels this way
# (-DMT_X64_SIMD_MAX=0 portable, 1 SSE4.1; natmod/kernels/mt_x64.h).
EXTRA_CFLAGS: tuple = ()

# Buffer element types of the op table (mt_ops.h) and the numpy dtype each one needs.
BUF_DTYPES = {"b": np.dtype(np.int8), "i": np.dtype(np.int32), "f": np.dtype(np.float32)}


class _Buf(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _OpInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("fn", ctypes.c_void_p),
        ("n_args", ctypes.c_uint8),
        ("n_bufs", ctypes.c_uint8),
        ("buf_types", ctypes.c_char_p),
        ("writes", ctypes.c_uint32),
    ]


@dataclass(frozen=True)
class OpInfo:
    """One row of the op table, as the built library reports it."""

    op_id: int
    name: str
    n_args: int
    n_bufs: int
    buf_types: str
    writes: int  # bit i set: buffer i is written

    def writes_buf(self, i: int) -> bool:
        return bool(self.writes >> i & 1)


def sources() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS for p in d.glob("*.c"))


def _inputs() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS for pattern in ("*.c", "*.h") for p in d.glob(pattern))


def build(force: bool = False) -> Path:
    """The library's path: from the cache when the sources are unchanged, else compiled."""
    cc = shutil.which("gcc")
    if cc is None:
        raise MicrotrainError("gcc not found: install gcc to build the host kernel library")
    if LIB_PATH is not None:
        if force or not Path(LIB_PATH).exists():
            _compile(cc, Path(LIB_PATH))
        return Path(LIB_PATH)
    version = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    key = digest([*CFLAGS, *EXTRA_CFLAGS, version.partition("\n")[0]], _inputs(), NATMOD_DIR)
    if force:
        shutil.rmtree(build_cache.cache_root() / "host" / key, ignore_errors=True)
    return cached_file("host", key, LIB_NAME, lambda tmp: _compile(cc, tmp))[0]


def _compile(cc: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    cmd = [cc, *CFLAGS, *EXTRA_CFLAGS, "-o", str(target), *map(str, sources())]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MicrotrainError(f"building {LIB_NAME} failed:\n{proc.stderr.strip()}")


_loaded: dict = {}


def library(reload: bool = False) -> ctypes.CDLL:
    """The loaded library. The first call in a process (or reload=True) rebuilds it if a source
    changed; later calls reuse it without looking at the sources, so run_op stays cheap."""
    if _loaded and not reload:
        return next(iter(_loaded.values()))[0]
    path = build()
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _loaded:
        # Load a private copy: dlopen returns the old handle for a path it has already opened.
        private_dir = tempfile.mkdtemp(prefix="microtrain-")
        atexit.register(shutil.rmtree, private_dir, ignore_errors=True)
        copy = Path(private_dir) / path.name
        shutil.copy2(path, copy)
        lib = ctypes.CDLL(str(copy))
        lib.mt_op_count.restype = ctypes.c_size_t
        lib.mt_op_count.argtypes = []
        lib.mt_op_get.restype = ctypes.POINTER(_OpInfo)
        lib.mt_op_get.argtypes = [ctypes.c_uint32]
        lib.mt_op_run.restype = ctypes.c_int
        lib.mt_op_run.argtypes = [
            ctypes.c_uint32,
            ctypes.POINTER(ctypes.c_int32),
            ctypes.c_size_t,
            ctypes.POINTER(_Buf),
            ctypes.c_size_t,
        ]
        lib.mt_status_message.restype = ctypes.c_char_p
        lib.mt_status_message.argtypes = [ctypes.c_int]
        _loaded.clear()
        _loaded[key] = (lib, _read_table(lib))
    return _loaded[key][0]


def _read_table(lib) -> dict[str, OpInfo]:
    table = {}
    for op_id in range(lib.mt_op_count()):
        row = lib.mt_op_get(op_id).contents
        name = row.name.decode()
        table[name] = OpInfo(
            op_id, name, row.n_args, row.n_bufs, row.buf_types.decode(), row.writes
        )
    return table


def ops() -> dict[str, OpInfo]:
    """The op table of the built library: name -> OpInfo."""
    library()
    return next(iter(_loaded.values()))[1]


def op_ids() -> dict[str, int]:
    """Name -> op id, read from the built library."""
    return {name: info.op_id for name, info in ops().items()}


def op_info(name_or_id) -> OpInfo:
    table = ops()
    if isinstance(name_or_id, str):
        if name_or_id not in table:
            raise MicrotrainError(f"unknown op {name_or_id!r}; known: {', '.join(table)}")
        return table[name_or_id]
    for info in table.values():
        if info.op_id == name_or_id:
            return info
    raise MicrotrainError(f"unknown op id {name_or_id}; the table has {len(table)} ops")


def status_message(status: int) -> str:
    return library().mt_status_message(status).decode()


def _check_buf(info: OpInfo, i: int, buf) -> np.ndarray:
    want = BUF_DTYPES[info.buf_types[i]]
    if not isinstance(buf, np.ndarray):
        raise MicrotrainError(f"{info.name}: buffer {i} must be a numpy array, got {type(buf)}")
    if buf.dtype != want:
        raise MicrotrainError(f"{info.name}: buffer {i} must be {want}, got {buf.dtype}")
    if not buf.flags.c_contiguous:
        raise MicrotrainError(f"{info.name}: buffer {i} must be C-contiguous")
    if info.writes_buf(i) and not buf.flags.writeable:
        raise MicrotrainError(f"{info.name}: buffer {i} is written and must be writeable")
    return buf


def run_op(name_or_id, args, bufs) -> None:
    """Run one op of the table on numpy buffers; written buffers are updated in place.

    Raises MicrotrainError with the kernel's status message when the op refuses its input.
    """
    info = op_info(name_or_id)
    lib = library()
    args = [int(a) for a in args]
    if len(args) != info.n_args or len(bufs) != info.n_bufs:
        raise MicrotrainError(
            f"{info.name}: takes {info.n_args} args and {info.n_bufs} buffers, "
            f"got {len(args)} and {len(bufs)}"
        )
    for a in args:
        if not -(1 << 31) <= a < (1 << 31):
            raise MicrotrainError(f"{info.name}: argument {a} does not fit int32")
    arrays = [_check_buf(info, i, b) for i, b in enumerate(bufs)]
    c_args = (ctypes.c_int32 * max(len(args), 1))(*args)
    c_bufs = (_Buf * max(len(arrays), 1))()
    for i, arr in enumerate(arrays):
        c_bufs[i].data = arr.ctypes.data
        c_bufs[i].len = arr.nbytes
    status = lib.mt_op_run(info.op_id, c_args, len(args), c_bufs, len(arrays))
    if status != 0:
        raise MicrotrainError(f"{info.name}: {status_message(status)}")
