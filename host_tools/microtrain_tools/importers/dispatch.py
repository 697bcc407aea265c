# SPDX-License-Identifier: MIT
"""`microtrain import` as a library function: a model file -> Int8Graph (+ accuracy report).

Sources: a float model, quantized with calibration data (our .npz, or a float .onnx as PyTorch
exports it: onnx_import), one of the paper's int8 models (.pkl, converted as they are, with a
new head), or a full-integer int8 TFLite model (.tflite, converted as it is: tflite_import).
Any of them can take a fresh N-class classifier in place of its own (new_head).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..formats import model as mdl
from . import paper_models
from ..quantize import ptq as quantize
from .new_head import replace_head
from .onnx_import import read_onnx
from .onnx_qdq import qdq_to_int8
from .tflite_import import load_tflite
from ..errors import MicrotrainError, reading
from ..formats.int8_graph import Int8Graph


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


def import_model(path, calib=None, eval_path=None, classes=10, log=None, new_head=None):
    """Returns (graph, report or None). calib/eval_path: .npz sample files. new_head: replace
    the model's classifier with a fresh one of this many classes (the report, if any, is of
    the model as it came, before the new head)."""
    log = log or (lambda msg: None)
    path = Path(path)
    if path.suffix == ".pkl":
        log(f"reading paper model {path}")
        graph = paper_models.load_paper_model(path.stem, classes=new_head or classes,
                                              path=path)
        if calib is not None:
            log("note: the paper's models are int8 already; --calib is not used")
        return graph, None
    graph, report = _import(path, calib, eval_path, log)
    if new_head is not None:
        old = graph.layers[-1]
        graph = replace_head(graph, new_head)
        log(f"new head: {old.name} ({old.c_out} classes) replaced by a fresh {new_head}-class "
            f"fc on its {graph.layers[-1].c_in} features")
    return graph, report


def _import(path: Path, calib, eval_path, log):
    if path.suffix == ".tflite":
        log(f"reading int8 TFLite model {path}")
        graph = load_tflite(path)
        if calib is not None:
            log("note: an int8 TFLite model is quantized already; --calib is not used")
        for note in graph.meta.get("notes", []):
            log(note)
        return graph, None
    if path.suffix not in (".npz", ".onnx"):
        raise MicrotrainError(f"{path}: unknown model format {path.suffix!r}; known: .npz "
                              "(microtrain float model), .onnx (float, as torch.onnx.export "
                              "writes it), .pkl (paper model), .tflite (int8)")
    quant = {}
    if path.suffix == ".onnx":
        model, notes, quant = read_onnx(path)
        log(f"reading {'QDQ int8' if quant else 'float'} ONNX model {path}")
        for note in notes:
            log(note)
        if quant:
            return _import_qdq(path, model, quant, calib, eval_path, log)
    if calib is None:
        raise MicrotrainError("a float model needs calibration data: --calib data.npz")
    if path.suffix != ".onnx":
        log(f"reading float model {path}")
        model = mdl.load_model(path)
    x_cal, y_cal = load_samples(calib)
    x_cal = as_nhwc(x_cal, model, calib)
    eval_data = None
    if eval_path is not None:
        x_eval, y_eval = load_samples(eval_path, need_labels=True)
        eval_data = (as_nhwc(x_eval, model, eval_path), y_eval)
    elif y_cal is not None:
        log("no --eval data: the report uses the calibration samples (in-sample)")
        eval_data = (x_cal, y_cal)
    with reading(path, "float model"):  # a quantizer refusal names the model's file too
        return quantize.quantize(model, x_cal, eval_data, log=log)


def _import_qdq(path, model, quant, calib, eval_path, log):
    """A QDQ int8 .onnx: the file's quantization, no calibration (onnx_qdq)."""
    log("QDQ int8 model: the file's scales and zero points, no calibration")
    if calib is not None:
        log("note: a QDQ model is quantized already; --calib is not used")
    with reading(path, "QDQ ONNX model"):
        graph = qdq_to_int8(model, quant, path, log)
    log(f"quantized {len(graph.weight_layers())} weight layers")
    if eval_path is None:
        return graph, None
    x, y = load_samples(eval_path, need_labels=True)
    return graph, quantize.compare(model, graph, as_nhwc(x, model, eval_path), y)


def as_nhwc(x, model, path):
    """Samples as the model takes them: (n, features) for a model of (1, 1, features) input is
    the same data; samples in PyTorch's NCHW layout, the usual slip with an ONNX model, are an
    error that says so."""
    h, w, c = model.input_shape
    if x.ndim == 2 and (h, w) == (1, 1) and x.shape[1] == c:
        return x.reshape(len(x), 1, 1, c)
    if x.ndim == 4 and x.shape[1:] == (c, h, w) and (c, h, w) != (h, w, c):
        raise MicrotrainError(f"{path}: samples of shape {x.shape[1:]} look NCHW (PyTorch's "
                              f"layout); microtrain takes NHWC {(h, w, c)}: save "
                              "x.transpose(0, 2, 3, 1)")
    return x


def describe(graph: Int8Graph) -> str:
    n_w = sum(int(ly.weight.size) for ly in graph.weight_layers())
    macs = sum(graph.macs(ly) for ly in graph.weight_layers())
    return (f"{graph.name}: {len(graph.layers)} layers, {len(graph.weight_layers())} with "
            f"weights, {n_w:,} int8 weights, {macs / 1e6:.2f} M MACs per sample")
