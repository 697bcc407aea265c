# SPDX-License-Identifier: MIT
"""The markdown report of a benchmark run (bench/results/kernels.md) from its JSON data."""

# Instructions per MAC of CMSIS-NN's kernels on Cortex-M4, gcc -O2, from the issue (measured
# the same way: executed instructions / MACs). A plain TFLM-style C loop needs 6.3 to 24.
CMSIS_NN = {
    "1x1 conv": 2.28,
    "depthwise 3x3": 7.90,
    "depthwise 7x7 s2": 8.10,
    "3x3 conv s2": 4.77,
    "fully connected": 2.27,
}
TFLM_PLAIN_LOOP = (6.3, 24.0)
FWD_TARGET = 1.2  # forward within 1.2x of CMSIS-NN
BWD_TARGET = 2.0  # each backward pass within 2x of our forward, per MAC


def _rate(macs, seconds):
    return "-" if seconds is None else f"{macs / seconds / 1e9:.3g}"


def _ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2g}x"


def _ok(flag):
    return "yes" if flag else "**no**"


def _by(rows, pass_):
    return {r["layer"]: r for r in rows if r["pass"] == pass_}


def host_table(rows) -> list[str]:
    out = ["| layer | shape | MACs | pass | host library | unix port | numpy float32 | "
           "host library / numpy |", "|---|---|---:|---|---:|---:|---:|---:|"]
    for r in rows:
        numpy_s, host_s = r.get("numpy_s"), r.get("host_s")
        out.append(f"| {r['layer']} | {r['shape']} | {r['macs']:,} | {r['pass']} | "
                   f"{_rate(r['macs'], host_s)} | {_rate(r['macs'], r.get('upy_s'))} | "
                   f"{_rate(r['macs'], numpy_s)} | {_ratio(numpy_s, host_s)} |")
    return out


def _ipm(row, label):
    """Instructions per MAC of the Cortex-M run `label` ("m4-O2", "m0-O2", ...)."""
    n = row.get(label)
    return None if n is None else n / row["macs"]


def _num(x):
    return "-" if x is None else f"{x:.2f}"


def m4_forward_table(rows) -> list[str]:
    out = ["| layer | shape | MACs | ours | CMSIS-NN | ours / CMSIS-NN | "
           f"within {FWD_TARGET}x |", "|---|---|---:|---:|---:|---:|---|"]
    for name, r in _by(rows, "fwd").items():
        ours, ref = _ipm(r, "m4-O2"), CMSIS_NN.get(name)
        ratio = None if ours is None or ref is None else ours / ref
        out.append(f"| {name} | {r['shape']} | {r['macs']:,} | {_num(ours)} | {_num(ref)} | "
                   f"{_num(ratio)}x | {'-' if ratio is None else _ok(ratio <= FWD_TARGET)} |")
    return out


EMITTED_PASSES = ("q8_grad_in", "q8_update")  # what the compiler emits (docs/numerics.md)


def m4_backward_table(rows, passes) -> list[str]:
    """Backward passes of `passes` beside the forward; the 2x bar is judged on emitted ones."""
    out = ["| layer | fwd | pass | instructions / MAC | / fwd | "
           f"within {BWD_TARGET}x |", "|---|---:|---|---:|---:|---|"]
    fwd = _by(rows, "fwd")
    for r in rows:
        f, b = _ipm(fwd[r["layer"]], "m4-O2"), _ipm(r, "m4-O2")
        if r["pass"] not in passes or None in (f, b):
            continue
        verdict = _ok(b / f <= BWD_TARGET) if r["pass"] in EMITTED_PASSES else "-"
        out.append(f"| {r['layer']} | {f:.2f} | {r['pass']} | {b:.2f} | {b / f:.2f}x | "
                   f"{verdict} |")
    return out


def runs_table(rows, labels, headers) -> list[str]:
    """Instructions per MAC of every row in each Cortex-M run of `labels`."""
    out = ["| layer | pass | " + " | ".join(headers) + " |",
           "|---|---|" + "---:|" * len(labels)]
    for r in rows:
        out.append(f"| {r['layer']} | {r['pass']} | "
                   + " | ".join(_num(_ipm(r, label)) for label in labels) + " |")
    return out


def checks(data) -> list[str]:
    rows = data["rows"]
    out = []
    keys = [("host_equal", "host library"), ("upy_equal", "unix port")]
    runs = data.get("cortex_m", {})
    keys += [(f"{label}_equal", f"Cortex-{m['core'].upper()} `{m['opt']}`")
             for label, m in runs.items()]
    for key, what in keys:
        flags = [r[key] for r in rows if key in r]
        if flags:
            out.append(f"- {what}: {sum(flags)} of {len(flags)} op outputs equal the numpy "
                       "reference bit for bit")
    for m in runs.values():
        if m["runs"] > 1:
            same = "identical" if m["deterministic"] else "**differ**"
            count = f"{m['runs']} runs, instruction counts {same} between runs"
        else:
            count = "1 run"
        out.append(f"- Cortex-{m['core'].upper()} `{m['opt']}`: {count}; "
                   f"{m['instructions_per_tick']} instructions per timer tick (calibrated)")
    return out


def markdown(data) -> str:
    m, rows = data["machine"], data["rows"]
    lines = [
        "# Kernel benchmark (`make bench`)",
        "",
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores, {m['os']}); Python "
        f"{m['python']}, numpy {m['numpy']} (BLAS threads: {m['blas_threads']}); {m['gcc']}; "
        f"{m['arm_gcc']}; {m['qemu']}; source {m['commit']}. How it is measured: docs/bench.md.",
        "",
        "## Host: billions of MACs per second (GMAC/s)",
        "",
        "Host library: natmod C at gcc -O2 through ctypes. Unix port: `_microtrain.op` in the "
        "x64 native module (natmod flags, -Os), timed with time.ticks_us. numpy: the same layer "
        "in float32 (im2col + matmul, one core; the q8 rows do the float work of their f32 "
        "twins). Best of 9 rounds of about 40 ms each, in 3 sweeps over all cases; "
        f"load average at the start (1, 5, 15 min): {m['load']}; above the core count, other "
        "work shared the cores and the wall-clock numbers are noisy (the Cortex-M counts "
        "are not).",
        "",
        *host_table(rows),
    ]
    runs = data.get("cortex_m", {})
    m4_runs = [label for label, m in runs.items() if m["core"] == "m4"]
    if "m4-O2" in runs:
        lo, hi = TFLM_PLAIN_LOOP
        lines += [
            "",
            "## Cortex-M4 (qemu mps2-an386): executed instructions per MAC",
            "",
            "Instructions of one op call through `mt_op_run` (adapter checks included) divided "
            "by the layer's MACs, at gcc -O2 as CMSIS-NN's numbers (the issue's, measured the "
            f"same way) were; a plain TFLM-style C loop needs {lo} to {hi}.",
            "",
            "### Forward",
            "",
            *m4_forward_table(rows),
            "",
            "### Backward",
            "",
            "What a learn step runs (the compiler's ops): q8_grad_in, the input gradient as "
            "int8 with a per-tensor scale (two passes over the output: the largest value, then "
            "the values); q8_update, the weight gradient fused with the QAS update of the int8 "
            "weights (stochastic rounding). Both sum exact integers (docs/numerics.md).",
            "",
            *m4_backward_table(rows, EMITTED_PASSES),
            "",
            "The fully connected layer's update at batch 1 makes one MAC per weight, so its count "
            "is the QAS step of each weight (float32 scaling, a stochastic draw, rounding, "
            "saturation, a load and a store of the weight) rather than multiply-adds; "
            "docs/bench.md breaks it down and says why 2x the forward, which only reads each "
            "weight, is out of reach for a float32 stochastic update.",
            "",
            "The float32-gradient ops (grad_in, grad_w: float32 sums in a fixed order), which the "
            "compiler does not emit and which stay to measure the formats against:",
            "",
            *m4_backward_table(rows, ("grad_in", "grad_w")),
            "",
            "### Compiler flags",
            "",
            "The native module is built with -Os by default (microtrain_tools.mpy.arches), and at "
            "-O2 with `--opt speed` (a board's `opt = \"speed\"`); -O2 is how CMSIS-NN was "
            "measured.",
            "",
            *runs_table(rows, m4_runs, [f"`{runs[label]['opt']}`" for label in m4_runs]),
        ]
    by_core = [label for label in ("m0-O2", "m3-O2", "m4-O2") if label in runs]
    if len(by_core) > 1:
        lines += [
            "",
            "## Cortex-M0, M3 and M4 at -O2: executed instructions per MAC",
            "",
            "M0 (RP2040-class: Thumb-1, no FPU, no 64-bit multiply) and M3 (no FPU) do float "
            "in software (libgcc), so the float32-gradient ops cost hundreds of instructions per "
            "MAC; the q8 ops sum integers and pay a float operation per output element or per "
            "weight only (the fc update: per MAC). qemu has no M0 board with enough RAM: the M0 code runs on the M3 board "
            "(mps2-an385), which executes the same instructions.",
            "",
            *runs_table(rows, by_core, [f"Cortex-{runs[b]['core'].upper()}" for b in by_core]),
        ]
    lines += ["", "## Checks", "", *checks(data), ""]
    qas = ("this run saved its tables in [qas_digits.md](qas_digits.md)" if data.get("qas") else
           "this run skipped it (--no-qas)")
    lines += ["## QAS accuracy", "", "`bench/qas_digits.py` measures QAS, update rounding and "
              f"gradient formats by fine-tuning an int8 MLP on digits; {qas}.", ""]
    return "\n".join(lines)
