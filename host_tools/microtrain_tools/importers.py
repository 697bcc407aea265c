# SPDX-License-Identifier: MIT
"""`microtrain import` as a library function: a model file -> Int8Graph (+ accuracy report).

Sources: our float model (.npz, quantized with calibration data), one of the paper's int8
models (.pkl, converted as they are, with a new head), or a full-integer int8 TFLite model
(.tflite, converted as it is: tflite_import).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import model as mdl
from . import paper_models, quantize
from .tflite_import import load_tflite
from .errors import MicrotrainError, reading
from .int8_graph import Int8Graph


def load_samples(path, need_labels=False):
    """(x, y or None) from an .npz with arrays "x" (n, h, w, c) and optionally "y" (n,)."""
    arrays = mdl.read_npz(path, "sample file (.npz with x and y)")
    if "x" not in arrays:
        raise MicrotrainError(f"{path}: no array 'x' (samples); found {sorted(arrays)}")
    x, y = arrays["x"], arrays.get("y")
    if need_labels and y is None:
        raise MicrotrainError(f"{path}: no array 'y' (labels)")
    if y is not None and len(y) != len(x):
        raise MicrotrainError(f"{path}: x has {len(x)} samples but y has {len(y)} labels")
    if not np.issubdtype(x.dtype, np.floating) and not np.issubdtype(x.dtype, np.integer):
        raise MicrotrainError(f"{path}: x must be numeric, got {x.dtype}")
    return x.astype(np.float32), y


def import_model(path, calib=None, eval_path=None, classes=10, log=None):
    """Returns (graph, report or None). calib/eval_path: .npz sample files."""
    log = log or (lambda msg: None)
    path = Path(path)
    if path.suffix == ".pkl":
        log(f"reading paper model {path}")
        graph = paper_models.load_paper_model(path.stem, classes=classes, path=path)
        if calib is not None:
            log("note: the paper's models are int8 already; --calib is not used")
        return graph, None
    if path.suffix == ".tflite":
        log(f"reading int8 TFLite model {path}")
        graph = load_tflite(path)
        if calib is not None:
            log("note: an int8 TFLite model is quantized already; --calib is not used")
        for note in graph.meta.get("notes", []):
            log(note)
        return graph, None
    if path.suffix != ".npz":
        raise MicrotrainError(f"{path}: unknown model format {path.suffix!r}; known: .npz "
                              "(microtrain float model), .pkl (paper model), .tflite (int8)")
    if calib is None:
        raise MicrotrainError("a float model needs calibration data: --calib data.npz")
    log(f"reading float model {path}")
    model = mdl.load_model(path)
    x_cal, y_cal = load_samples(calib)
    eval_data = None
    if eval_path is not None:
        eval_data = load_samples(eval_path, need_labels=True)
    elif y_cal is not None:
        log("no --eval data: the report uses the calibration samples (in-sample)")
        eval_data = (x_cal, y_cal)
    with reading(path, "float model"):  # a quantizer refusal names the model's file too
        return quantize.quantize(model, x_cal, eval_data, log=log)


def describe(graph: Int8Graph) -> str:
    n_w = sum(int(ly.weight.size) for ly in graph.weight_layers())
    macs = sum(graph.macs(ly) for ly in graph.weight_layers())
    return (f"{graph.name}: {len(graph.layers)} layers, {len(graph.weight_layers())} with "
            f"weights, {n_w:,} int8 weights, {macs / 1e6:.2f} M MACs per sample")
