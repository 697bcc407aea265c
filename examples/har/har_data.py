# SPDX-License-Identifier: MIT
"""The HAR exercise recordings (../shared/data/har_exercises, read in place): windows and labels.

Each recording is an int16 .npy of (1000, 3) accelerometer samples at 50 Hz, about 16384 units
per g; the label is the last underscore-separated word of the file name. 14 files were cut short
by the recorder: their complete rows are recovered (with a warning), and a file with less than
one window of data is skipped (with a warning), as PROVENANCE.md there asks.
"""

import warnings
from pathlib import Path

import numpy as np

from microtrain_tools.formats.data_files import load_npy_rows, warn_truncated
from microtrain_tools.errors import MicrotrainError

CLASSES = ("other", "jumpingjack", "squat", "lunge")
UNITS_PER_G = 16384.0
WINDOW = 100  # 2 s at 50 Hz
HOP = 50


def label_of(path: Path) -> str:
    return path.stem.rsplit("_", 1)[-1]


def load_recordings(folder):
    """[(path, label, samples (n, 3) float32 in g)] for every usable recording in folder."""
    folder = Path(folder)
    files = sorted(folder.glob("*.npy"))
    if not files:
        raise MicrotrainError(f"{folder}: no .npy recordings found")
    out = []
    for path in files:
        label = label_of(path)
        if label not in CLASSES:
            raise MicrotrainError(f"{path}: unknown label {label!r}; expected one of {CLASSES}")
        try:
            rec = load_npy_rows(path, min_rows=WINDOW)
        except MicrotrainError as err:
            warnings.warn(f"skipping {err}", stacklevel=2)
            continue
        if rec.truncated:
            warn_truncated(path, rec)
        out.append((path, label, rec.array.astype(np.float32) / UNITS_PER_G))
    return out


def windows(samples: np.ndarray, window: int = WINDOW, hop: int = HOP) -> np.ndarray:
    """Cut (n, 3) samples into (k, 1, window, 3) windows: NHWC with H = 1, for a conv1d."""
    starts = range(0, len(samples) - window + 1, hop)
    return np.stack([samples[s : s + window] for s in starts])[:, None, :, :]


def dataset(recordings, classes=CLASSES):
    """Windows and integer labels (index in `classes`) of the recordings whose label is in it."""
    xs, ys = [], []
    for _, label, samples in recordings:
        if label in classes:
            w = windows(samples)
            xs.append(w)
            ys.append(np.full(len(w), classes.index(label), dtype=np.int32))
    return np.concatenate(xs), np.concatenate(ys)
