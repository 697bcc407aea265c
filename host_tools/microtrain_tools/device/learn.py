# SPDX-License-Identifier: MIT
"""Learning on a board from the host: stream samples through the raw REPL, one per exec.

Each sample travels as one short line of code, `_mt_l(b'<base64 x>', y)`, which the board
decodes into an array ('f' for float32 models, 'b' for int8-input models) and hands to its
microtrain Model: learn, then the class of the logits its forward pass computed before the
update (Model.logits(); a package without it gets a separate predict first), so the running
accuracy is the one a deployed device would have had before learning from that sample. The board
keeps no sample after its step; only the model's learned state changes.
"""

import ast
import base64
import time
from dataclasses import dataclass, field

import numpy as np

from ..sim.curves import LearningCurve, WindowMeans
from ..errors import MicrotrainError
from .link import DeviceLink

# Defined once on the board per session; names start with _mt_ to stay out of the user's way.
_BOARD_SETUP = """\
import microtrain, binascii
from array import array
_mt_m = microtrain.load({name})
if {resume}:
    _mt_m.load_state()
_mt_dt = getattr(_mt_m, 'input_dtype', 'float32')
_mt_tc = 'b' if _mt_dt == 'int8' else 'f'
def _mt_x(b):
    return array(_mt_tc, binascii.a2b_base64(b))
def _mt_p(b):
    print(_mt_m.predict(_mt_x(b)))
_mt_lg = getattr(_mt_m, 'logits', None)
def _mt_l(b, y):
    x = _mt_x(b)
    p = None if _mt_lg else _mt_m.predict(x)
    if isinstance(y, bytes):
        y = array('f', binascii.a2b_base64(y))
    loss = _mt_m.learn(x, y)
    if _mt_lg:
        z = _mt_lg()
        p = z.index(max(z))
    print(p, repr(loss))
print(repr((getattr(_mt_m, 'input_size', None), getattr(_mt_m, 'n_outputs', None),
            _mt_dt, _mt_m.memory())))
"""


def _b64(values: np.ndarray) -> str:
    """float32 or int8 values as base64 (little-endian, as every MicroPython board)."""
    if values.dtype != np.int8:
        values = values.astype("<f4")
    return base64.b64encode(np.ascontiguousarray(values).tobytes()).decode("ascii")


class BoardModel:
    """A microtrain Model living on the board, driven through its raw REPL."""

    def __init__(self, repl: DeviceLink, name: str, *, resume: bool = False,
                 timeout: float = 30.0):
        self.repl, self.name, self.timeout = repl, name, timeout
        out = repl.exec(_BOARD_SETUP.format(name=repr(name), resume=bool(resume)), timeout)
        try:
            info = ast.literal_eval(out.strip().splitlines()[-1])
        except (ValueError, SyntaxError, IndexError):
            raise MicrotrainError(f"{repl.name}: unexpected answer when loading model {name!r}: "
                                  f"{out!r}") from None
        self.input_size, self.n_outputs, self.input_dtype, self.memory = info

    def predict(self, x: np.ndarray) -> int:
        out = self.repl.exec(f"_mt_p(b'{_b64(x)}')", self.timeout)
        return int(out)

    def learn(self, x: np.ndarray, y) -> tuple[int, float]:
        """One training step; returns (prediction before the step, loss)."""
        target = f"b'{_b64(y)}'" if isinstance(y, np.ndarray) else str(int(y))
        out = self.repl.exec(f"_mt_l(b'{_b64(x)}', {target})", self.timeout).split()
        if len(out) != 2:
            raise MicrotrainError(f"{self.repl.name}: unexpected answer to a learn step: {out}")
        return int(out[0]), float(out[1])

    def accuracy(self, xs: np.ndarray, labels: np.ndarray) -> float:
        correct = sum(self.predict(x) == int(t) for x, t in zip(xs, labels))
        return correct / len(xs)

    def save(self) -> None:
        self.repl.exec("_mt_m.save()", self.timeout)


@dataclass
class EpochStats:
    epoch: int
    samples: int
    mean_loss: float
    accuracy: float  # of the prediction made just before each step
    seconds: float
    losses: list[float] = field(default_factory=list)  # of each step, in order


@dataclass
class LearnReport:
    accuracy_before: float
    accuracy_after: float
    accuracy_on: str  # which samples the before/after accuracy is measured on
    epochs: list[EpochStats] = field(default_factory=list)
    memory: dict | None = None
    curve: LearningCurve = field(default_factory=LearningCurve)


def prepare_samples(x: np.ndarray, y: np.ndarray, source: str, input_size: int | None,
                    input_dtype: str = "float32"):
    """(x as (n, input_size) float32 or int8, targets to send, class labels for accuracy)."""
    xs = np.asarray(x).reshape(len(x), -1).astype(np.float32)
    if input_size is not None and xs.shape[1] != input_size:
        raise MicrotrainError(f"{source}: samples have {xs.shape[1]} values, the model on the "
                              f"board takes {input_size}")
    if not np.all(np.isfinite(xs)):
        raise MicrotrainError(f"{source}: x holds NaN or infinite values")
    if input_dtype == "int8":
        if not np.all((xs == np.round(xs)) & (xs >= -128) & (xs <= 127)):
            raise MicrotrainError(f"{source}: the model on the board takes int8 inputs, but x "
                                  "holds values that are not integers in -128..127")
        xs = xs.astype(np.int8)
    y = np.asarray(y)
    if y.ndim == 1:
        if not np.all(np.equal(np.mod(y, 1), 0)):
            raise MicrotrainError(f"{source}: y holds non-integer labels")
        labels = y.astype(np.int64)
        if labels.min() < 0:
            raise MicrotrainError(f"{source}: y holds negative labels")
        return xs, list(labels), labels
    if y.ndim == 2:  # regression-style targets (MSE models); accuracy by argmax
        targets = y.astype(np.float32)
        return xs, list(targets), targets.argmax(axis=1)
    raise MicrotrainError(f"{source}: y must be labels (n,) or targets (n, k), got {y.shape}")


def learn_on_board(repl: DeviceLink, name: str, data, *, epochs: int = 1, eval_data=None,
                   save: bool = False, resume: bool = False, shuffle_seed: int | None = 0,
                   timeout: float = 30.0, log=print, curve_every: int | None = None
                   ) -> LearnReport:
    """data, eval_data: (source name, x, y). Accuracy before/after is measured on eval_data,
    or on data when there is none. report.curve gets a row every `curve_every` steps (default:
    20 per epoch), one per epoch, and the held-out accuracy before and after."""
    if epochs < 1:
        raise MicrotrainError(f"epochs must be at least 1, got {epochs}")
    model = BoardModel(repl, name, resume=resume, timeout=timeout)
    log(f"learn: model {name!r} on {repl.name}: {model.input_size} inputs, "
        f"{model.n_outputs} outputs, memory {model.memory}")
    source, x, y = data
    xs, targets, labels = prepare_samples(x, y, source, model.input_size, model.input_dtype)
    if model.n_outputs is not None and labels.max() >= model.n_outputs:
        raise MicrotrainError(f"{source}: label {labels.max()} but the model has "
                              f"{model.n_outputs} outputs")
    if eval_data is not None:
        eval_source, ex, ey = eval_data
        exs, _, elabels = prepare_samples(ex, ey, eval_source, model.input_size,
                                          model.input_dtype)
    else:
        eval_source, exs, elabels = source, xs, labels
    report = LearnReport(0.0, 0.0, eval_source, memory=model.memory)

    report.accuracy_before = model.accuracy(exs, elabels)
    report.curve.add("held_out", 0, 0, None, report.accuracy_before)
    window = WindowMeans(report.curve, curve_every or max(1, len(xs) // 20))
    log(f"before: accuracy {100 * report.accuracy_before:.1f}% on {eval_source} "
        f"({len(exs)} samples)")
    rng = np.random.default_rng(shuffle_seed) if shuffle_seed is not None else None
    every = max(1, len(xs) // 10)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(xs)) if rng is not None else np.arange(len(xs))
        start, losses, loss_sum, correct = time.monotonic(), [], 0.0, 0
        for done, i in enumerate(order, start=1):
            predicted, loss = model.learn(xs[i], targets[i])
            losses.append(loss)
            loss_sum += loss
            correct += predicted == labels[i]
            window.add(epoch, loss, predicted == labels[i])
            if done % every == 0 or done == len(xs):
                log(f"  epoch {epoch}/{epochs}  {done:>6}/{len(xs)}  loss {loss_sum / done:.4f}"
                    f"  accuracy {100 * correct / done:.1f}%")
        seconds = time.monotonic() - start
        stats = EpochStats(epoch, len(xs), loss_sum / len(xs), correct / len(xs), seconds,
                           losses)
        report.epochs.append(stats)
        window.end_epoch(epoch)
        log(f"epoch {epoch}: mean loss {stats.mean_loss:.4f}, running accuracy "
            f"{100 * stats.accuracy:.1f}%, {1000 * seconds / len(xs):.1f} ms per sample")
    report.accuracy_after = model.accuracy(exs, elabels)
    report.curve.add("held_out", epochs, window.step, None, report.accuracy_after)
    log(f"after: accuracy {100 * report.accuracy_after:.1f}% on {eval_source} "
        f"(before {100 * report.accuracy_before:.1f}%)")
    if save:
        model.save()
        log("saved the learned state on the board (m.save())")
    return report
