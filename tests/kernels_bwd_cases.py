# SPDX-License-Identifier: MIT
"""Random cases of the backward, loss and update ops in the op-adapter form (args, bufs)."""

import numpy as np

from kernels_fwd_cases import random_act, same_out, valid_out
from microtrain_tools.reference import args as A


def random_scales(rng, count, lo=1e-4, hi=0.05):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size=count)).astype(np.float32)


def random_grad(rng, shape, scale=1.0):
    """Float32 gradients with a spread of magnitudes, some exact zeros and negative zeros."""
    g = (rng.standard_normal(shape) * np.exp(rng.uniform(-3, 1, size=shape)) * scale).astype(
        np.float32
    )
    g.ravel()[:: 7] = 0.0
    g.ravel()[3:: 11] = -0.0
    return g


def geometry(h, w, k, stride, padding):
    kh, kw = k
    if padding == "same":
        (out_h, pad_h), (out_w, pad_w) = same_out(h, kh, stride[0]), same_out(w, kw, stride[1])
    else:
        out_h, out_w, pad_h, pad_w = valid_out(h, kh, stride[0]), valid_out(w, kw, stride[1]), 0, 0
    return out_h, out_w, pad_h, pad_w


def conv_grad_in_case(rng, *, n=1, h=6, w=6, c_in=3, c_out=4, k=(3, 3), stride=(1, 1),
                      padding="same", depthwise=False, accumulate=0):
    out_h, out_w, pad_h, pad_w = geometry(h, w, k, stride, padding)
    if depthwise:
        c_out = c_in
    f_dims = (1, *k, c_in) if depthwise else (c_out, *k, c_in)
    conv = A.Conv(stride[0], stride[1], pad_h, pad_w, random_act(rng))
    filt = rng.integers(-127, 128, size=f_dims, dtype=np.int8)
    grad_out = random_grad(rng, (n, out_h, out_w, c_out))
    grad_in = random_grad(rng, (n, h, w, c_in))
    args = A.pack_conv(conv) + [n, h, w, c_in, *f_dims, n, out_h, out_w, c_out, accumulate]
    return args, [random_scales(rng, c_out), grad_in.ravel(), filt.ravel(), grad_out.ravel()]


def conv_grad_w_case(rng, *, n=1, h=6, w=6, c_in=3, c_out=4, k=(3, 3), stride=(1, 1),
                     padding="same", depthwise=False, k_sel=None, channels="list"):
    """A saved input of k_sel channels (of c_in); depthwise also gets the channel list."""
    out_h, out_w, pad_h, pad_w = geometry(h, w, k, stride, padding)
    k_sel = c_in if k_sel is None else k_sel
    if depthwise:
        c_out = c_in
    f_dims = (1, *k, k_sel) if depthwise else (c_out, *k, k_sel)
    conv = A.Conv(stride[0], stride[1], pad_h, pad_w, random_act(rng))
    x = rng.integers(-128, 128, size=(n, h, w, k_sel), dtype=np.int8)
    grad_out = random_grad(rng, (n, out_h, out_w, c_out))
    scale = float(random_scales(rng, 1, 1e-3, 0.1)[0])
    args = A.pack_conv(conv) + [n, h, w, k_sel, *f_dims, n, out_h, out_w, c_out]
    args.append(A.f32_bits(scale))
    grad_w = np.zeros(int(np.prod(f_dims)), np.float32)
    if not depthwise:
        return args, [x.ravel(), grad_w, grad_out.ravel()]
    if channels == "list":
        sel = np.sort(rng.choice(c_in, size=k_sel, replace=False)).astype(np.int32)
    else:  # "first k": the empty buffer
        sel = np.zeros(0, np.int32)
    return args, [x.ravel(), sel, grad_w, grad_out.ravel()]


def fc_grad_in_case(rng, *, n=1, in_shape=(1, 1, 16), c_out=10, accumulate=0):
    c_in = int(np.prod(in_shape))
    act = random_act(rng)
    filt = rng.integers(-127, 128, size=(c_out, 1, 1, c_in), dtype=np.int8)
    args = A.pack_act(act) + [n, *in_shape, c_out, 1, 1, c_in, n, 1, 1, c_out, accumulate]
    grad_in = random_grad(rng, (n, *in_shape))
    grad_out = random_grad(rng, (n, c_out))
    return args, [random_scales(rng, c_out), grad_in.ravel(), filt.ravel(), grad_out.ravel()]


def fc_grad_w_case(rng, *, n=1, k_sel=16, c_out=10):
    act = random_act(rng)
    x = rng.integers(-128, 128, size=(n, k_sel), dtype=np.int8)
    args = A.pack_act(act) + [n, 1, 1, k_sel, c_out, 1, 1, k_sel, n, 1, 1, c_out]
    args.append(A.f32_bits(float(random_scales(rng, 1, 1e-3, 0.1)[0])))
    grad_out = random_grad(rng, (n, c_out))
    return args, [x.ravel(), np.zeros(c_out * k_sel, np.float32), grad_out.ravel()]


def grad_in_scratch(op, args):
    """The scratch of mt_<op>_q8_grad_in (conv2d, pwconv2d, fc; none for dwconv2d), 4-aligned."""
    from microtrain_tools.reference.grad_in_q8 import scratch_bytes

    f_dims = args[8:12] if op == "fc" else args[12:16]
    size = scratch_bytes(f_dims[3], f_dims[0], f_dims[1], f_dims[2])
    return np.full(size // 4, -1, np.int32).view(np.int8)  # not zero: C must clear it


def q8_grad_in_bufs(op, args, bufs, q8):
    """f32 grad_in bufs [scale, grad_in, filter, grad_out] -> the q8 op's buffers (q8: values
    -> (int8, scale [1]))."""
    scale, gin, filt, gout = bufs
    extra = [] if op == "dwconv2d" else [grad_in_scratch(op, args)]
    return [scale, *q8(gin), filt, *q8(gout), *extra]


# Shapes that reach every branch of the q8 grad_in kernels (portable and DSP): input channels
# not a multiple of 4 (blocks of 4 and a tail), odd c_out (the smlad pair loop and its tail), odd
# pixel counts, padding, stride 2, accumulate, and c_out * kh * kw large enough that M < 256.
Q8_GRAD_IN_SHAPES = (
    ("conv2d", dict(h=5, w=3, c_in=7, c_out=5, stride=(2, 2), accumulate=1)),
    ("conv2d", dict(h=3, w=3, c_in=9, c_out=64, accumulate=0)),  # T = 576: M = 128
    ("conv2d", dict(h=4, w=5, c_in=4, c_out=2, k=(2, 3), padding="valid", stride=(2, 1))),
    ("pwconv2d", dict(h=3, w=3, c_in=6, c_out=3, k=(1, 1), padding="valid", accumulate=1)),
    ("pwconv2d", dict(h=3, w=2, c_in=8, c_out=9, k=(1, 1), padding="valid", stride=(2, 2))),
    # Even c_out: the DSP path takes pixels in pairs (odd count: one left; c_in % 4: a tail).
    ("pwconv2d", dict(h=3, w=3, c_in=10, c_out=6, k=(1, 1), padding="valid", accumulate=1)),
    ("pwconv2d", dict(h=2, w=3, c_in=8, c_out=4, k=(1, 1), padding="valid")),
    ("dwconv2d", dict(h=5, w=5, c_in=7, accumulate=1)),
    ("dwconv2d", dict(h=9, w=8, c_in=6, k=(7, 7), stride=(2, 2))),
    ("fc", dict(n=3, in_shape=(1, 1, 11), c_out=7, accumulate=1)),
    ("fc", dict(n=1, in_shape=(2, 2, 4), c_out=4)),
    ("fc", dict(n=3, in_shape=(1, 1, 13), c_out=8)),
    # 1x1 stride 1 unpadded with fewer than 8 pixels (the DSP path's tap sums, not its blocks):
    # c_out % 4 = 1 and 3, c_out = 128 and 129, c_in % 4 = 1.
    ("pwconv2d", dict(h=1, w=3, c_in=5, c_out=5, k=(1, 1), padding="valid", accumulate=1)),
    ("pwconv2d", dict(h=3, w=1, c_in=9, c_out=11, k=(1, 1), padding="valid")),
    ("pwconv2d", dict(h=1, w=2, c_in=6, c_out=128, k=(1, 1), padding="valid", accumulate=1)),
    ("pwconv2d", dict(h=1, w=3, c_in=7, c_out=129, k=(1, 1), padding="valid")),
    ("fc", dict(n=2, in_shape=(1, 1, 9), c_out=13, accumulate=1)),
    ("fc", dict(n=1, in_shape=(1, 1, 21), c_out=131)),
    # dwconv2d by phase (mt_dwconv2d_q8_grad_in.c and _m4.c): pixels with every tap and
    # border ones, two groups of 4 and a tail, batches, stride 2 with odd sizes, padding 0 / 1 /
    # 3, images smaller than the kernel (no pixel has every tap), a stride above the kernel
    # (phases without taps), more than 7 taps along an axis of a phase (not the DSP path), only
    # tail channels.
    ("dwconv2d", dict(h=6, w=7, c_in=9)),
    ("dwconv2d", dict(n=2, h=7, w=9, c_in=8, k=(7, 7), stride=(2, 2), accumulate=1)),
    ("dwconv2d", dict(n=2, h=5, w=6, c_in=12, k=(7, 7))),
    ("dwconv2d", dict(h=5, w=6, c_in=4, padding="valid", stride=(2, 1), accumulate=1)),
    ("dwconv2d", dict(h=2, w=3, c_in=5, k=(5, 5), accumulate=1)),
    ("dwconv2d", dict(h=7, w=8, c_in=4, k=(2, 2), padding="valid", stride=(3, 3))),
    ("dwconv2d", dict(h=9, w=10, c_in=6, k=(9, 9), stride=(1, 2))),
    ("dwconv2d", dict(h=4, w=4, c_in=3, accumulate=1)),
    ("dwconv2d", dict(h=11, w=8, c_in=4, k=(5, 3), stride=(2, 2))),
    ("dwconv2d", dict(h=6, w=9, c_in=8, k=(7, 8), accumulate=1)),  # 56 taps in one phase
    # The DSP one-pixel sums: eight rows a step, then four, a pair and one (c_out = 15).
    ("fc", dict(n=1, in_shape=(1, 1, 6), c_out=15, accumulate=1)),
    # pixels without taps (stride above the kernel) with accumulate: the DSP path's zero sums
    ("dwconv2d", dict(n=2, h=7, w=8, c_in=8, k=(2, 2), stride=(3, 3), accumulate=1)),
    # The DSP 1x1 block mode (stride 1, unpadded, 8+ pixels). Four input channels a block (c_out
    # > 64): chunks of 128 output channels whose sums wait in the scratch (one group of pixels;
    # three, the last short), a last chunk of 72 (4 groups a step and 2), of 13 (2, 1 and a rest),
    # of 2 (only the rest), c_in % 4 = 1 and 2; pass 0's stash of c_in / 16 * 4 channels in the
    # output (no accumulate), c_in a multiple of 4 or not.
    ("pwconv2d", dict(h=3, w=3, c_in=37, c_out=200, k=(1, 1), padding="valid")),
    ("pwconv2d", dict(n=2, h=5, w=4, c_in=18, c_out=141, k=(1, 1), padding="valid",
                      accumulate=1)),
    ("pwconv2d", dict(h=6, w=6, c_in=33, c_out=130, k=(1, 1), padding="valid")),
    ("pwconv2d", dict(h=2, w=4, c_in=16, c_out=300, k=(1, 1), padding="valid", accumulate=1)),
    ("fc", dict(n=9, in_shape=(1, 1, 21), c_out=70)),
    # Eight input channels a block (c_out <= 64): 4 groups a step, 2, 1 and a rest (c_out = 61);
    # exactly 8 pixels, a last block of 3 and of 5 channels; the stash of c_in / 32 * 8.
    ("pwconv2d", dict(h=3, w=3, c_in=45, c_out=61, k=(1, 1), padding="valid")),
    ("pwconv2d", dict(h=2, w=4, c_in=11, c_out=64, k=(1, 1), padding="valid", accumulate=1)),
    ("pwconv2d", dict(h=3, w=4, c_in=64, c_out=12, k=(1, 1), padding="valid")),
    # The DSP path's tiles (mt_dwconv2d_q8_grad_in_m4.c): a map wider than its grad_out buffer
    # (tiles across, more than 8 pixels a row: the accumulate walk's runs of 8), 7x7 taps (the
    # smallest buffer: tiles across and down), stride 2 with tiles down in both passes, a 4x4
    # map under a 5x5 kernel (every pixel row loses taps at the top or bottom, every column at
    # a side). Phases without taps: the stride-3 cases above.
    ("dwconv2d", dict(h=5, w=40, c_in=8, accumulate=1)),
    ("dwconv2d", dict(h=20, w=9, c_in=5, k=(7, 7))),
    ("dwconv2d", dict(n=2, h=17, w=16, c_in=8, k=(5, 5), stride=(2, 2))),
    ("dwconv2d", dict(h=4, w=4, c_in=12, k=(5, 5))),
)


def q8_grad_in_cases(rng, q8):
    """(op name, args, bufs) of mt_<op>_q8_grad_in over Q8_GRAD_IN_SHAPES, with -128 in
    grad_out and in the filter (any int8 must be safe); then a 1x1 block-mode case with a
    grad_out scale so large that 2^31 * c overflows float32 (the DSP blocks then keep no sums
    in the output in pass 0), though its largest |value| does not."""
    for op, shape in Q8_GRAD_IN_SHAPES:
        if op == "fc":
            args, bufs = fc_grad_in_case(rng, **shape)
        else:
            args, bufs = conv_grad_in_case(rng, depthwise=op == "dwconv2d", **shape)
        qbufs = q8_grad_in_bufs(op, args, bufs, q8)
        qbufs[4].ravel()[::5] = -128
        qbufs[3].ravel()[1::6] = -128
        yield f"mt_{op}_q8_grad_in", args, qbufs
    args, bufs = conv_grad_in_case(rng, h=3, w=3, c_in=40, c_out=24, k=(1, 1), padding="valid")
    qbufs = q8_grad_in_bufs("pwconv2d", args, bufs, q8)
    qbufs[5][0] = 1e33  # c = 1e33 * s_max / 256 > 3.4e38 / 2^31
    yield "mt_pwconv2d_q8_grad_in", args, qbufs


def split_pointwise_case(rng, q8, *, c_in, c_out, k, h=3, w=3, stride=(1, 1), channels=True,
                         group_rows=1, accumulate=0):
    """A pointwise layer learning k of c_in input channels: the split forward and int8 dL/dx
    ops ((name, args, bufs) each) and the merged filter both equal (reference
    chanmerge_s8_fwd). channels: a random increasing list, or False: the first k (empty).
    group_rows: the forward's scratch holds that many filter rows (and their outputs)."""
    from kernels_fwd_cases import conv_case
    from microtrain_tools.reference.chanmerge_s8_fwd import chanmerge
    from microtrain_tools.reference.grad_in_q8 import scratch_bytes

    args, bufs = conv_case(rng, h=h, w=w, c_in=c_in, c_out=c_out, k=(1, 1), stride=stride,
                           padding="valid", clamp="relu6")
    picked = (np.sort(rng.choice(c_in, size=k, replace=False)).astype(np.int32) if channels
              else np.arange(k, dtype=np.int32))
    sel = picked if channels else np.zeros(0, np.int32)
    learned = rng.integers(-127, 128, size=(c_out, k), dtype=np.int8)
    merged = chanmerge(bufs[3].reshape(c_out, c_in), learned, picked, k).ravel()
    out_pixels = int(np.prod(args[16:19]))
    scratch = np.full(group_rows * (c_in + out_pixels), -1, np.int8)  # C must clear it
    fwd = ("mt_pwconv2d_split_s8_fwd", args + [k], [*bufs, learned.ravel(), sel, scratch])
    gargs, gbufs = conv_grad_in_case(rng, h=h, w=w, c_in=c_in, c_out=c_out, k=(1, 1),
                                     stride=stride, padding="valid", accumulate=accumulate)
    scale, gin, _, gout = gbufs
    filt = bufs[3]  # the forward's frozen filter: `merged` is both ops' filter
    gscratch = np.full(scratch_bytes(c_in, c_out, 1, 1) // 4, -1, np.int32).view(np.int8)
    grad = ("mt_pwconv2d_split_q8_grad_in", gargs + [k],
            [scale, *q8(gin), filt, *q8(gout), gscratch, learned.ravel(), sel])
    return fwd, grad, merged


# Every branch of the split kernels: c_in and k not multiples of 4 (blocks of 4 and tails in
# runs of frozen and of learned columns), learned channels in one run and in several, odd c_out,
# groups that do not divide c_out, one row a group, stride 2 (input pixels no tap reaches), the
# first k (no list), accumulate, the DSP block mode (8+ pixels; 4 or 8 input channels a block).
SPLIT_POINTWISE_SHAPES = (
    dict(c_in=10, c_out=7, k=3, group_rows=3),
    dict(c_in=16, c_out=12, k=8, h=4, w=4, group_rows=5, accumulate=1),
    dict(c_in=9, c_out=5, k=9, group_rows=1, channels=False),
    dict(c_in=12, c_out=6, k=5, h=5, w=3, stride=(2, 2), group_rows=6),
    dict(c_in=8, c_out=34, k=2, h=4, w=4, group_rows=40),
    dict(c_in=21, c_out=10, k=6, h=6, w=6, group_rows=4, accumulate=1),  # block mode
    dict(c_in=13, c_out=9, k=13, h=8, w=5, group_rows=2, channels=False),  # block, all learned
    # block mode, four input channels a block: chunks of output channels, the stash
    dict(c_in=40, c_out=150, k=13, h=3, w=3, group_rows=2),
    dict(c_in=17, c_out=140, k=17, h=5, w=5, group_rows=1, channels=False),  # 2 pixel groups
    dict(c_in=36, c_out=50, k=7, h=4, w=2, group_rows=3, accumulate=1),  # eight a block
)


def split_pointwise_cases(rng, q8):
    """(name, args, bufs) of the split pointwise ops over SPLIT_POINTWISE_SHAPES."""
    for shape in SPLIT_POINTWISE_SHAPES:
        fwd, grad, _ = split_pointwise_case(rng, q8, **shape)
        yield fwd
        yield grad
