# SPDX-License-Identifier: MIT
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from microtrain_tools.formats.data_files import load_npy_rows, load_samples
from microtrain_tools.errors import MicrotrainError
from shared_data import shared_data

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "har"))
import har_data  # noqa: E402


def write_npy(path, array, keep_bytes=None):
    np.save(path, array)
    if keep_bytes is not None:
        data = path.read_bytes()
        path.write_bytes(data[:keep_bytes])


def test_complete_file_reads_whole(tmp_path):
    a = np.arange(30, dtype=np.int16).reshape(10, 3)
    write_npy(tmp_path / "a.npy", a)
    rec = load_npy_rows(tmp_path / "a.npy")
    assert not rec.truncated and np.array_equal(rec.array, a)


def test_truncated_file_recovers_complete_rows(tmp_path):
    a = np.arange(30, dtype=np.int16).reshape(10, 3)
    write_npy(tmp_path / "a.npy", a)
    header = len((tmp_path / "a.npy").read_bytes()) - a.nbytes
    write_npy(tmp_path / "a.npy", a, keep_bytes=header + 4 * 6 + 2)  # 4 rows and a bit
    rec = load_npy_rows(tmp_path / "a.npy")
    assert rec.truncated and rec.rows_read == 4 and rec.rows_expected == 10
    assert np.array_equal(rec.array, a[:4])


def test_empty_or_headerless_file_is_refused(tmp_path):
    (tmp_path / "empty.npy").write_bytes(b"")
    with pytest.raises(MicrotrainError, match="not a readable .npy"):
        load_npy_rows(tmp_path / "empty.npy")
    a = np.zeros((10, 3), np.int16)
    write_npy(tmp_path / "short.npy", a, keep_bytes=140)
    with pytest.raises(MicrotrainError, match="unusable"):
        load_npy_rows(tmp_path / "short.npy", min_rows=5)


def test_samples_npz_errors(tmp_path):
    np.savez(tmp_path / "ok.npz", x=np.zeros((3, 4)), y=np.arange(3))
    x, y = load_samples(tmp_path / "ok.npz")
    assert x.shape == (3, 4)
    np.savez(tmp_path / "noy.npz", x=np.zeros((3, 4)))
    with pytest.raises(MicrotrainError, match="missing"):
        load_samples(tmp_path / "noy.npz")
    np.savez(tmp_path / "n.npz", x=np.zeros((3, 4)), y=np.arange(2))
    with pytest.raises(MicrotrainError, match="3 samples but y has 2"):
        load_samples(tmp_path / "n.npz")
    data = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(MicrotrainError, match="damaged"):
        load_samples(tmp_path / "cut.npz")


def test_har_recordings_recover_truncated_files():
    folder = shared_data("har_exercises")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recs = har_data.load_recordings(folder)
    messages = [str(w.message) for w in caught]
    assert sum("truncated recording" in m for m in messages) >= 10, messages
    assert sum("skipping" in m for m in messages) >= 1, "the empty recording must be skipped"
    assert len(recs) + sum("skipping" in m for m in messages) == 134
    x, y = har_data.dataset(recs)
    assert x.shape[1:] == (1, har_data.WINDOW, 3) and len(x) == len(y)
    assert set(np.unique(y)) == {0, 1, 2, 3}
    assert 0.5 < np.abs(x).max() < 8, "samples should be in g"
