# SPDX-License-Identifier: MIT
"""The two plots of a benchmark run: host throughput, and Cortex-M4 instructions per MAC."""

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from report import CMSIS_NN  # noqa: E402



def _passes(rows):
    return list(dict.fromkeys(r["pass"] for r in rows))


def _layers(rows):
    return list(dict.fromkeys(r["layer"] for r in rows))


def _value(rows, layer, pass_, key):
    r = next(r for r in rows if r["layer"] == layer and r["pass"] == pass_)
    return r.get(key), r["macs"]


def host_plot(data, path):
    rows, m = data["rows"], data["machine"]
    layers = _layers(rows)
    series = (("host_s", "host library (C -O2)"), ("upy_s", "unix port (_microtrain.op)"),
              ("numpy_s", "numpy float32"))
    passes = _passes(rows)
    ncols = 3
    nrows = -(-len(passes) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(15, 4.6 * nrows), sharey=True,
                             squeeze=False)
    axes = axes.ravel()
    for ax in axes[len(passes):]:
        ax.set_visible(False)
    x = np.arange(len(layers))
    for ax, pass_ in zip(axes, passes):
        for i, (key, label) in enumerate(series):
            rates = []
            for layer in layers:
                seconds, macs = _value(rows, layer, pass_, key)
                rates.append(np.nan if seconds is None else macs / seconds / 1e9)
            ax.bar(x + (i - 1) * 0.27, rates, 0.27, label=label)
        ax.set_title(pass_)
        ax.set_xticks(x, layers, rotation=30, ha="right")
        ax.set_yscale("log")
        ax.grid(axis="y", which="both", alpha=0.3)
    for ax in axes[::ncols]:
        ax.set_ylabel("GMAC/s")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Kernel throughput on {m['cpu']} ({m['cores']} cores), {m['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def cortex_m4_plot(data, path):
    """Instructions per MAC of every pass on Cortex-M4 at -O2, beside CMSIS-NN's forward."""
    rows, m = data["rows"], data["machine"]
    layers = _layers(rows)
    passes = _passes(rows)
    fig, ax = plt.subplots(figsize=(12, 5))
    x = np.arange(len(layers))
    width = 0.8 / (len(passes) + 1)
    for i, pass_ in enumerate(passes):
        ipm = []
        for layer in layers:
            count, macs = _value(rows, layer, pass_, "m4-O2")
            ipm.append(np.nan if count is None else count / macs)
        ax.bar(x + i * width, ipm, width, label=f"ours {pass_} (-O2)")
    ax.bar(x + len(passes) * width, [CMSIS_NN.get(name, np.nan) for name in layers], width,
           label="CMSIS-NN fwd (-O2)", color="black")
    ax.set_xticks(x + len(passes) * width / 2, layers, rotation=20, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("executed instructions per MAC")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"Cortex-M4 (qemu mps2-an386, -icount shift=0), {m['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_plots(data, out_dir):
    host_plot(data, out_dir / "host_throughput.png")
    if "m4-O2" in data.get("cortex_m", {}):
        cortex_m4_plot(data, out_dir / "cortex_m4_instructions.png")
