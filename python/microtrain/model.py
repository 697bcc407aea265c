# SPDX-License-Identifier: MIT
# A packed model on the device: predict, learn, evaluate, save. Runs on boards and on the unix
# port; never imports numpy. All compute happens in the native module, which runs a training
# program compiled on the host; this file only checks inputs and hands over buffers.
import gc
from array import array

import _microtrain

from . import state

BUNDLE_FORMAT = 3  # host_tools/microtrain_tools/bundle/pack.py BUNDLE_FORMAT
TYPECODE_FLOAT = 102  # ord("f")
TYPECODES_INT8 = (98, 66, 1)  # array("b"), bytes ("B"), bytearray (1)
SEQUENCES = (list, tuple)  # built once: a tuple written in a call would be allocated per call
LOSS_CROSS_ENTROPY = "softmax_ce"
LOSS_MSE = "mse"


class Model:
    def __init__(self, bundle, weights, bundle_heap=0):
        """bundle: the imported model module; weights: its frozen weights, a buffer (a
        memoryview of a ROMFS file, or a bytearray read from a normal filesystem)."""
        if getattr(bundle, "FORMAT", None) != BUNDLE_FORMAT:
            raise ValueError("bundle format %r, this package reads %d"
                             % (getattr(bundle, "FORMAT", None), BUNDLE_FORMAT))
        if len(weights) != bundle.WEIGHTS_SIZE:
            raise ValueError("weights: %d bytes, the bundle needs %d"
                             % (len(weights), bundle.WEIGHTS_SIZE))
        self.name = bundle.NAME
        self.model_id = bundle.MODEL_ID
        self.input_size = bundle.INPUT_SIZE
        self.n_outputs = bundle.N_OUTPUTS
        self.loss_kind = bundle.LOSS
        self.input_dtype = bundle.INPUT_DTYPE  # "float32" or "int8"
        # real = input_scale * (q - input_zero_point): how int8 inputs encode real values
        self.input_scale = bundle.INPUT_SCALE
        self.input_zero_point = bundle.INPUT_ZERO_POINT
        self._bundle = bundle
        self._weights = weights
        self._weights_in_ram = isinstance(weights, bytearray)
        self._bundle_heap = bundle_heap
        # Everything learn() touches is allocated here, once.
        self._arena = bytearray(bundle.ARENA_SIZE)
        self._params = bytearray(bundle.PARAMS)
        if self.loss_kind == LOSS_CROSS_ENTROPY:
            self._y = array("i", [0])
        else:
            self._y = array("f", bytes(4 * self.n_outputs))
        # logits, then the loss
        self._out = array("f", bytes(4 * (self.n_outputs + 1)))
        # x is checked by its size in bytes: no input-sized buffer is allocated for the check.
        x_size = self.input_size * (4 if self.input_dtype == "float32" else 1)
        for program in (bundle.PREDICT, bundle.LEARN):
            _microtrain.check(program, self._arena, weights, self._params, x_size, self._y,
                              self._out)

    def _input(self, x):
        # A buffer of the right type goes to the native code as it is (no copy, no allocation);
        # a list or tuple is converted, which allocates.
        if isinstance(x, SEQUENCES):
            x = array("f" if self.input_dtype == "float32" else "b", x)
        if len(x) != self.input_size:
            raise ValueError("x has %d values, the model takes %d" % (len(x), self.input_size))
        code = _microtrain.typecode(x)
        if self.input_dtype == "float32":
            if code != TYPECODE_FLOAT:
                raise ValueError("x must be array('f') for this model")
        elif code not in TYPECODES_INT8:
            raise ValueError("x must be int8: array('b'), bytes or bytearray")
        return x

    def quantize_input(self, values, out=None):
        """Real input values (e.g. sensor readings, scaled as in training) -> int8, as the
        host quantizer does: round half away from zero, add the zero point, saturate. Writes
        into `out` (array('b') or bytearray of input_size) if given, else a new array('b')."""
        if len(values) != self.input_size:
            raise ValueError("%d values, the model takes %d" % (len(values), self.input_size))
        if out is None:
            out = array("b", bytes(self.input_size))
        elif len(out) != self.input_size:
            raise ValueError("out has %d bytes, the model takes %d" % (len(out), self.input_size))
        signed = _microtrain.typecode(out) == TYPECODES_INT8[0]  # a bytearray holds q & 0xFF
        scale, zp = self.input_scale, self.input_zero_point
        for i in range(self.input_size):
            v = values[i] / scale  # a division, as the host's: a multiply can round otherwise
            q = int(v + 0.5) if v >= 0 else -int(0.5 - v)
            q = min(127, max(-128, q + zp))
            out[i] = q if signed else q & 0xFF
        return out

    def _target(self, y):
        if self.loss_kind == LOSS_CROSS_ENTROPY:
            if not isinstance(y, int) or not 0 <= y < self.n_outputs:
                raise ValueError("label must be an int in 0..%d, got %r" % (self.n_outputs - 1, y))
            self._y[0] = y
            return self._y
        # array("f") goes to the native code as it is; a list or tuple is converted (allocates).
        # Anything else (array("d"), array("i"), bytes) would be read as raw float32 bytes.
        if isinstance(y, SEQUENCES):
            y = array("f", y)
        elif not isinstance(y, array) or _microtrain.typecode(y) != TYPECODE_FLOAT:
            raise ValueError("y must be array('f') or a list/tuple of numbers for this model")
        if len(y) != self.n_outputs:
            raise ValueError("y has %d values, the model has %d outputs" % (len(y), self.n_outputs))
        return y

    def _argmax(self):
        out = self._out
        best = 0
        for i in range(1, self.n_outputs):
            if out[i] > out[best]:
                best = i
        return best

    def predict(self, x):
        """Class index (cross-entropy models) of x, a sequence of input_size numbers."""
        x = self._input(x)
        _microtrain.run(self._bundle.PREDICT, self._arena, self._weights, self._params,
                        x, self._y, self._out)
        return self._argmax()

    def logits(self):
        """The outputs of the last predict or learn, as a new list of floats."""
        return [self._out[i] for i in range(self.n_outputs)]

    def learn(self, x, y, return_loss=True):
        """One training step on (x, y). Returns the loss before the step.

        With return_loss=False it returns None and allocates nothing on the heap (a float
        return value is a heap object on most ports); the loss stays readable via last_loss().
        """
        x = self._input(x)
        y = self._target(y)
        _microtrain.run(self._bundle.LEARN, self._arena, self._weights, self._params,
                        x, y, self._out)
        if return_loss:
            return self._out[self.n_outputs]
        return None

    def last_loss(self):
        return self._out[self.n_outputs]

    def evaluate(self, xs, ys):
        """Accuracy of predict over the samples xs with labels ys."""
        if len(xs) != len(ys):
            raise ValueError("%d inputs but %d labels" % (len(xs), len(ys)))
        if not xs:
            raise ValueError("no samples to evaluate")
        for label in ys:  # before any predict: a "3" or a 99 is a mistake, not a wrong answer
            if not isinstance(label, int) or not 0 <= label < self.n_outputs:
                raise ValueError("label must be an int in 0..%d, got %r"
                                 % (self.n_outputs - 1, label))
        correct = 0
        for i in range(len(xs)):
            if self.predict(xs[i]) == ys[i]:
                correct += 1
        return correct / len(xs)

    def memory(self):
        """Bytes of heap this model costs: arena, trainable state, I/O buffers, the frozen
        weights if they are not in flash (ROMFS), the bundle module's objects (measured at
        import: a few hundred bytes from ROMFS) and the native module's code (copied into RAM
        on every port; shared by all models)."""
        return {
            "arena": len(self._arena),
            "params": len(self._params),
            "io": 4 * (len(self._y) + len(self._out)),
            "weights": len(self._weights) if self._weights_in_ram else 0,
            "bundle": self._bundle_heap,
            "native_code": self._bundle.NATIVE_CODE,
        }

    def save(self, path=None):
        """Write the learned state (path + ".a" or ".b"); the previous one survives until the new
        one is on flash, so a power cut loses at most this save. Returns the file written."""
        return state.save(path or self.name + ".state", self.model_id, self._params)

    def load_state(self, path=None):
        """Restore the newest whole saved state and return the file it came from; if none is
        whole (damaged, cut short, another model's), raise and change nothing."""
        return state.load_into(path or self.name + ".state", self.model_id, self._params)


def open_weights(path):
    """The frozen weights file as a buffer: a zero-copy view of a ROMFS file (in flash),
    else read into one bytearray (a normal filesystem has no mapped files)."""
    f = open(path, "rb")
    try:
        return memoryview(f)  # keeps f open; the bytes stay in flash
    except TypeError:
        pass
    with f:
        size = f.seek(0, 2)
        f.seek(0)
        weights = bytearray(size)
        if f.readinto(weights) != size:
            raise ValueError("%s: short read" % path)
        return weights


def load(name, weights_path, state_path=None):
    """Import the bundle module `name` (model.mpy from `microtrain pack`), open its weights
    file and set the model up. Call microtrain.load: it checks the files first."""
    gc.collect()
    before = gc.mem_alloc()
    bundle = __import__(name)
    bundle_heap = gc.mem_alloc() - before
    model = Model(bundle, open_weights(weights_path), bundle_heap)
    if state_path is not None:
        model.load_state(state_path)
    return model
