# SPDX-License-Identifier: MIT
"""In-place convolutions: where a conv's output may overlap its dying input.

A depthwise conv reads a few rows above each output and a pointwise conv reads one pixel; if
the output is written a little behind the input, it never overwrites a value still to be read,
and input and output need little more than the larger of the two (TinyEngine's in-place
depthwise, generalised to pointwise expansion and projection).

Which offsets are safe is decided here from the kernels' access-order contract (stated in
natmod/kernels/mt_conv2d_s8_fwd.h, mt_pwconv2d_s8_fwd.h, mt_dwconv2d_s8_fwd.h and obeyed by
every code path of each: portable C, the Cortex-M DSP paths, any later SIMD path), not by
running one machine's code: a bundle is then safe on every board. The contract, as a schedule:

- output pixels are produced in raster order (n, oy, ox) over the flattened n*h*w run, in steps
  of `group` pixels aligned on that run (step s holds pixels group*s .. group*s + group - 1);
- within a step every input byte of the step's windows may be read after any output byte of
  the step is written; a step reads nothing outside its windows and writes only its pixels;
- so input byte q is last read in the step holding the last output pixel whose window holds q;
- depthwise, per channel: channel k of the input is read only for channel k of the output, a
  step writes channel k of its pixel after its last read of channel k, and the channels (or
  groups of them) may be produced in any order (so an input byte may be overwritten in the
  step that last reads it, by its own channel's output, and never by another channel's).

An offset is safe when every arena byte that is both an output byte and an input byte the op
reads is first written in a step after the input byte's last read (depthwise: in that step or
after, by the same channel), under every code path's schedule (the union). A pointwise conv's
steps are 1 pixel (portable) or aligned pairs (the Cortex-M DSP path); pairs are the stricter,
and single pixels refine them. tests/test_in_place_arches.py runs every accepted offset of each
shape class on x64, Cortex-M0, Cortex-M4 and RV32.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

CONV_OPS = ("mt_conv2d_s8_fwd", "mt_pwconv2d_s8_fwd", "mt_dwconv2d_s8_fwd")


@dataclass(frozen=True)
class ConvShape:
    """One conv op's geometry, from its args (natmod/ops/mt_op_conv2d.c's layout)."""

    n: int
    in_h: int
    in_w: int
    c_in: int
    k_h: int
    k_w: int
    out_h: int
    out_w: int
    c_out: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    depthwise: bool

    @property
    def n_in(self) -> int:
        return self.n * self.in_h * self.in_w * self.c_in

    @property
    def n_out(self) -> int:
        return self.n * self.out_h * self.out_w * self.c_out

    @property
    def pointwise(self) -> bool:
        """The kernels' own test (mt_pwconv2d_s8_fwd_applies): 1x1, no padding."""
        return not self.depthwise and self.k_h == self.k_w == 1 and self.pad_h == self.pad_w == 0


def conv_shape(name: str, args) -> ConvShape:
    if name not in CONV_OPS:
        raise ValueError(f"{name} is not an in-place-able conv op ({', '.join(CONV_OPS)})")
    if len(args) < 20:
        raise ValueError(f"{name}: {len(args)} args, a conv op has 20")
    sh, sw, ph, pw = (int(a) for a in args[0:4])
    n, in_h, in_w, c_in = (int(a) for a in args[8:12])
    k_h, k_w = int(args[13]), int(args[14])
    out_h, out_w, c_out = (int(a) for a in args[17:20])
    return ConvShape(n, in_h, in_w, c_in, k_h, k_w, out_h, out_w, c_out, sh, sw, ph, pw,
                     name == "mt_dwconv2d_s8_fwd")


@dataclass(frozen=True)
class Schedule:
    """One code path's access order: steps of `group` output pixels, aligned on the flattened
    n*h*w run; per_channel: the depthwise rule (channels independent, in any order, each
    written after its own reads of the step)."""

    name: str
    group: int
    per_channel: bool = False


PIXEL_STEPS = Schedule("one output pixel a step (portable C)", 1)
PIXEL_PAIRS = Schedule("aligned pixel pairs (Cortex-M DSP pointwise, stride 1)", 2)
CHANNEL_PIXELS = Schedule("per channel one pixel a step, channels in any order (depthwise)", 1,
                          per_channel=True)


def schedules(name: str, shape: ConvShape) -> tuple:
    """Every code path's schedule of the op: an offset must be safe under each."""
    if shape.depthwise:
        return (CHANNEL_PIXELS,)
    if name == "mt_pwconv2d_s8_fwd" or shape.pointwise:  # conv2d hands 1x1 to pwconv2d
        return (PIXEL_STEPS, PIXEL_PAIRS)
    return (PIXEL_STEPS,)


def _last_index(i, stride, pad, k, n_out):
    """Per input row (or column) i: the last output row whose window holds it, or -1."""
    last = np.minimum((i + pad) // stride, n_out - 1)
    return np.where((last >= 0) & (last * stride - pad + k > i), last, -1)


def last_reader(shape: ConvShape) -> np.ndarray:
    """Per input pixel (flattened n*h*w): the flattened index of the last output pixel whose
    window holds it, -1 if none does (windows are separable, so it is the last row's last
    column)."""
    oy = _last_index(np.arange(shape.in_h), shape.stride_h, shape.pad_h, shape.k_h, shape.out_h)
    ox = _last_index(np.arange(shape.in_w), shape.stride_w, shape.pad_w, shape.k_w, shape.out_w)
    local = oy[:, None] * shape.out_w + ox[None, :]
    local = np.where((oy[:, None] >= 0) & (ox[None, :] >= 0), local, -1)
    per_image = shape.out_h * shape.out_w
    images = np.arange(shape.n)[:, None, None] * per_image
    return np.where(local[None] >= 0, local[None] + images, -1).reshape(-1)


def step_times(shape: ConvShape, schedule: Schedule):
    """(write step of each output byte, last read step of each input byte or -1 if never
    read) under the schedule."""
    g = schedule.group
    write = np.repeat(np.arange(shape.n * shape.out_h * shape.out_w) // g, shape.c_out)
    last = last_reader(shape)
    read = np.repeat(np.where(last >= 0, last // g, -1), shape.c_in)
    return write, read


def overlap_safe(shape: ConvShape, delta: int, write, read, per_channel=False) -> bool:
    """With the output at `delta` bytes from the input: is every overlapped input byte that is
    read at all last read in a step before the overlapping output byte's write step (per
    channel: of the same channel, in that step or before)?"""
    lo, hi = max(0, delta), min(shape.n_in, delta + shape.n_out)
    if lo >= hi:
        return True
    addr = np.arange(lo, hi)
    r, w = read[addr], write[addr - delta]
    if per_channel:
        ok = (r < 0) | ((w >= r) & (addr % shape.c_in == (addr - delta) % shape.c_out))
    else:
        ok = (r < 0) | (w > r)
    return bool(ok.all())


def contract_check(name: str, args):
    """delta -> is the output at `delta` bytes from the input safe under every code path?"""
    shape = conv_shape(name, args)
    times = [(step_times(shape, s), s.per_channel) for s in schedules(name, shape)]
    return lambda delta: all(overlap_safe(shape, delta, w, r, free) for (w, r), free in times)


def _candidates(args):
    """Offsets of the output relative to the input, smallest footprint first."""
    in_dims, out_dims = args[8:12], args[16:20]
    n_in, n_out = int(np.prod(in_dims)), int(np.prod(out_dims))
    c_in, w_in, c_out = in_dims[3], in_dims[2], out_dims[3]
    row = w_in * c_in
    # 2 pixels: a pointwise conv's aligned pairs.
    margins = sorted({0, c_in, c_out, 2 * c_in, 2 * c_out, row, row + c_in, 2 * (row + c_in),
                      3 * (row + c_in)})
    cands = []
    for m in margins:
        cands.append((max(n_in, n_out) + m, -(max(n_out - n_in, 0) + m)))  # output behind
        cands.append((max(n_in, n_out) + m, max(n_in - n_out, 0) + m))  # output ahead
    return [delta for footprint, delta in sorted(cands) if footprint < n_in + n_out]


@lru_cache(maxsize=None)
def safe_deltas(name: str, args: tuple) -> tuple:
    """The safe offsets of the output relative to the input that save the most: the best with
    the output behind the input and the best with it ahead (neighbours in a chain of in-place
    ops may need either). Empty when none is safe."""
    if name not in CONV_OPS:
        return ()
    safe = contract_check(name, args)
    found = {}
    for delta in _candidates(args):
        side = delta < 0
        if side not in found and safe(delta):
            found[side] = delta
        if len(found) == 2:
            break
    return tuple(found.values())


def shift_safe(src: int, dst: int) -> bool:
    """A line-buffer shift (compiler/stream.py) is mt_chansel_s8_fwd with every channel: by its
    contract (natmod/kernels/mt_chansel_s8_fwd.h) a forward copy, one byte a step in raster
    order, each byte read before the step writes it. Output at or before its overlapping input
    therefore never overwrites a byte still to be read."""
    return dst <= src
