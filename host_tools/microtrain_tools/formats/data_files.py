# SPDX-License-Identifier: MIT
"""Reading data files that may be damaged: .npy recordings cut short by a recorder that stopped
mid-write, and .npz sample sets (x, y) for `microtrain learn` / `policy`.

A truncated .npy keeps its header, which promises the full shape; np.load refuses such a file.
`load_npy_rows` recovers the complete rows that are there (a row = one sample of every axis)
and reports how many were lost, or refuses with a clear message when nothing usable is left.
"""

import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MicrotrainError, reading


class TruncatedDataWarning(UserWarning):
    pass


@dataclass
class Recovered:
    array: np.ndarray
    rows_expected: int
    rows_read: int

    @property
    def truncated(self) -> bool:
        return self.rows_read < self.rows_expected


def load_npy_rows(path, min_rows: int = 1) -> Recovered:
    """Load a 2-D .npy (rows x columns), recovering the complete rows of a truncated file."""
    path = Path(path)
    with open(path, "rb") as f:
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        except (ValueError, OSError, SyntaxError) as err:
            raise MicrotrainError(f"{path}: not a readable .npy file ({err})") from None
        if dtype.hasobject:
            raise MicrotrainError(f"{path}: holds Python objects; only numeric arrays are read")
        if len(shape) != 2 or fortran:
            raise MicrotrainError(f"{path}: expected a C-ordered 2-D array, header says {shape}")
        body = f.read()
    row_bytes = shape[1] * dtype.itemsize
    rows = min(shape[0], len(body) // row_bytes) if row_bytes else 0
    if rows < min_rows:
        raise MicrotrainError(
            f"{path}: truncated to {len(body)} data bytes, fewer than {min_rows} complete "
            f"row(s) of {row_bytes} bytes; the file is unusable"
        )
    array = np.frombuffer(body[: rows * row_bytes], dtype=dtype).reshape(rows, shape[1]).copy()
    return Recovered(array, shape[0], rows)


def load_samples(path) -> tuple[np.ndarray, np.ndarray]:
    """An .npz with arrays x (n, ...) and y (n,) or (n, k); clear errors on anything else."""
    path = Path(path)
    with reading(path, "sample file (.npz with x and y)"):
        return _load_samples(path)


def _load_samples(path: Path):
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = {"x", "y"} - set(data.files)
            if missing:
                raise MicrotrainError(f"{path}: missing array(s) {sorted(missing)}; needs x and y")
            x, y = data["x"], data["y"]
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        raise MicrotrainError(f"{path}: damaged or not an .npz file ({err})") from None
    if len(x) != len(y):
        raise MicrotrainError(f"{path}: x has {len(x)} samples but y has {len(y)}")
    if len(x) == 0:
        raise MicrotrainError(f"{path}: no samples")
    if not np.issubdtype(x.dtype, np.number) or not np.issubdtype(y.dtype, np.number):
        raise MicrotrainError(f"{path}: x and y must be numeric, got {x.dtype} and {y.dtype}")
    return x, y


def warn_truncated(path, rec: Recovered) -> None:
    warnings.warn(
        f"{path}: truncated recording, recovered {rec.rows_read} of {rec.rows_expected} rows",
        TruncatedDataWarning,
        stacklevel=2,
    )
