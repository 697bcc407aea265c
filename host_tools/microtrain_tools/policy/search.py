# SPDX-License-Identifier: MIT
"""Finding a sparse update policy under a memory budget by contribution analysis (the paper's
Sec. 2.3). See docs/policy_search.md.

1. Candidates: the bias of n more layers below the head, and the weights of each of the last M
   weight layers below the head for a fraction of their input channels. The head (the last
   weight layer) always learns all its weights and its bias: that is the baseline.
2. Contribution: each candidate is fine-tuned alone (on top of the baseline) for a few hundred
   learn steps in the real int8 graph (HostModel: the C kernels), and its held-out accuracy
   minus the baseline's is its gain. Gains are assumed to add up, as the paper does.
3. Search: the combinations (one bias depth, one fraction per layer) with the largest summed
   gains whose training memory, compiled and planned exactly, fits the budget. They are
   visited best sum first (a lazy k-best walk over the per-layer choices), so the first ones
   that fit are the answer.
4. Check (our addition, `top`): the best few sums are fine-tuned too, and the best measured
   accuracy wins among them, the baseline and each candidate alone, since gains of layers
   learning together do not add up well on small data (docs/policy_search.md has numbers).

Also ours: "not learning" (the frozen model's held-out accuracy) is measured first, and the
result says loudly when the chosen policy does not beat it (a learning rate too high for the
model is the usual cause). With `lrs`, the rate is chosen first: the last layer is fine-tuned
at each rate and the best one is used for every fine-tune after it.
"""

from __future__ import annotations

import dataclasses
import heapq
import re
import time
from dataclasses import dataclass, field

import numpy as np

from ..compiler import TrainPlan, compile_model
from ..compiler.memory import memory_plan
from ..errors import MicrotrainError
from ..formats.int8_graph import Int8Graph
from .definition import CHANNEL_RULES, ROUNDINGS, Optimizer, Policy, make_policy, n_channels
from .features import FrozenFeatures, cut_below
from ..sim.simulate import HostModel

FRACTIONS = (0.125, 0.25, 0.5, 1.0)
KIB = 1024  # "KB" in budgets and reports means 1024 bytes, as on microcontroller datasheets
_UNITS = {"": 1, "b": 1, "k": KIB, "kb": KIB, "kib": KIB, "m": KIB * KIB, "mb": KIB * KIB,
          "mib": KIB * KIB}
MAX_VISITS = 200_000  # combinations popped from the best-first walk before giving up
LR_GRID = (0.003, 0.01, 0.03, 0.1)  # `--lr auto`: docs/policy.md has the measurements
COMPILED_KEPT = 32  # compiled programs a Space keeps (mcunet-5fps: about 0.5 MB each)


# ---- budgets and byte counts -----------------------------------------------------------------


def parse_budget(text) -> int:
    """'96KB', '96K', '96 KiB', '98304', '0.1MB' -> bytes (K = 1024, M = 1024 * 1024)."""
    if isinstance(text, int) and not isinstance(text, bool):
        value, unit = float(text), ""
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
        if not m or m.group(2).lower() not in _UNITS:
            raise MicrotrainError(f"budget {text!r} is not a size: write e.g. 96KB, 96K, 98304 "
                                  "or 0.1MB (KB = 1024 bytes)")
        value, unit = float(m.group(1)), m.group(2).lower()
    nbytes = int(value * _UNITS[unit])
    if nbytes <= 0:
        raise MicrotrainError(f"budget {text!r} must be more than 0 bytes")
    return nbytes


def format_kb(nbytes: int) -> str:
    """12595 -> '12.3 KB', 8192 -> '8 KB' (KB = 1024 bytes)."""
    return f"{nbytes / KIB:.1f}".rstrip("0").rstrip(".") + " KB"


# ---- candidates and combinations -------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One thing to add to the baseline: the bias of `bias_n` more layers below the head, or the
    weights of `layer` for `fraction` of its input channels."""

    bias_n: int = 0
    layer: str = ""
    fraction: float = 0.0

    @property
    def label(self) -> str:
        if self.layer:
            return f"weights {self.layer} x{_fraction_text(self.fraction)}"
        return f"bias +{self.bias_n} layer" + ("s" if self.bias_n > 1 else "")


def _fraction_text(f: float) -> str:
    return "1" if f == 1 else f"1/{round(1 / f)}" if (1 / f).is_integer() else f"{f:g}"


@dataclass(frozen=True)
class Combination:
    """bias_n: layers below the head whose bias learns; fractions: one per candidate weight
    layer (config order, 0 = its weights stay frozen)."""

    bias_n: int
    fractions: tuple


@dataclass
class SearchConfig:
    steps: int = 300  # learn steps of each short fine-tune
    lr: float = 0.05
    momentum: float = 0.0
    rounding: str = "stochastic"
    rule: str = "first_k"  # which input channels a fraction takes: CHANNEL_RULES
    bias_layers: int | None = None  # N: bias candidates n <= N (None: every layer below head)
    weight_layers: int = 4  # M: the last M weight layers below the head are weight candidates
    fractions: tuple = FRACTIONS
    val_fraction: float = 0.3  # of the data held out to measure accuracy
    seed: int = 0
    repeats: int = 1  # fine-tunes per candidate (different sample orders), averaged
    input_dtype: str = "float32"
    top: int = 3  # fine-tune the best `top` combinations that fit and keep the best measured
    lrs: tuple = ()  # rates to try on the last layer first (the best replaces lr); () keeps lr

    def check(self) -> None:
        if self.steps < 1:
            raise MicrotrainError(f"steps must be at least 1, got {self.steps}")
        if not (self.lr > 0 and np.isfinite(self.lr)):
            raise MicrotrainError(f"lr must be a positive number, got {self.lr}")
        if self.rounding not in ROUNDINGS:
            raise MicrotrainError(f"rounding must be one of {ROUNDINGS}, got {self.rounding!r}")
        if self.rule not in CHANNEL_RULES:
            raise MicrotrainError(f"rule must be one of {CHANNEL_RULES}, got {self.rule!r}")
        if self.bias_layers is not None and self.bias_layers < 0:
            raise MicrotrainError(f"bias layers must be >= 0, got {self.bias_layers}")
        if self.weight_layers < 0:
            raise MicrotrainError(f"weight layers must be >= 0, got {self.weight_layers}")
        if not self.fractions or any(not 0 < f <= 1 for f in self.fractions):
            raise MicrotrainError(f"fractions must be in (0, 1], got {self.fractions}")
        if not 0 < self.val_fraction < 1:
            raise MicrotrainError(f"val fraction must be in (0, 1), got {self.val_fraction}")
        if self.top < 0:
            raise MicrotrainError(f"top must be >= 0, got {self.top}")
        if self.repeats < 1:
            raise MicrotrainError(f"repeats must be at least 1, got {self.repeats}")
        if any(not (r > 0 and np.isfinite(r)) for r in self.lrs):
            raise MicrotrainError(f"learning rates to try must be positive numbers, got "
                                  f"{self.lrs}")

    def optimizer(self) -> Optimizer:
        return Optimizer(lr=self.lr, momentum=self.momentum, rounding=self.rounding)


@dataclass
class Measured:
    candidate: Candidate
    accuracy: float  # held-out, after the short fine-tune
    gain: float  # accuracy minus the baseline's
    learn_bytes: int  # training memory of baseline + this candidate alone
    seconds: float


@dataclass
class SearchResult:
    policy: Policy
    budget: int
    learn_bytes: int
    predicted_gain: float  # summed gains of the chosen candidates: a ranking score
    initial_accuracy: float  # not learning: the frozen model's held-out accuracy
    baseline_accuracy: float  # last layer only, after the short fine-tune
    baseline_bytes: int
    measured: list
    chosen: Combination
    compiled_combinations: int
    accuracy: float | None = None  # of the chosen policy, fine-tuned (None with top = 0)
    plan: object = None  # its MemoryPlan
    layers: list = field(default_factory=list)  # the candidate weight layers, Combination order
    checked: list = field(default_factory=list)  # the Fits fine-tuned to choose
    skipped: list = field(default_factory=list)  # (Candidate, bytes) over budget: not measured
    n_train: int = 0
    n_val: int = 0
    seconds: float = 0.0
    config: SearchConfig = field(default_factory=SearchConfig)
    lr_trials: list = field(default_factory=list)  # (lr, accuracy, which policy), rates tried
    warning: str | None = None  # set when the chosen policy does not beat not learning

    @property
    def beats_not_learning(self) -> bool | None:
        """Whether the chosen policy's measured accuracy is above the frozen model's (None:
        not measured, top = 0)."""
        return None if self.accuracy is None else self.accuracy > self.initial_accuracy


BIAS_GRID = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)


def bias_depths(n: int) -> list:
    """Bias depths to measure, up to n: every one to 4, then steps of about 1.5x, and n itself
    (a 40-layer model gets 11 fine-tunes, not 40)."""
    return sorted({d for d in BIAS_GRID if d < n} | ({n} if n else set()))


class Space:
    """The candidates of one graph and the policies of their combinations."""

    def __init__(self, graph: Int8Graph, cfg: SearchConfig):
        names = [ly.name for ly in graph.weight_layers()]
        if not names:
            raise MicrotrainError(f"graph {graph.name!r} has no weight layer to train")
        self.graph, self.cfg = graph, cfg
        self.head = names[-1]
        below = names[:-1]
        n_bias = len(below) if cfg.bias_layers is None else min(cfg.bias_layers, len(below))
        self.bias_depths = bias_depths(n_bias)
        self.layers = below[len(below) - min(cfg.weight_layers, len(below)):]
        # fractions that select a different number of channels on each layer (1/8 and 1/4 of
        # 4 channels are both one channel: measured once)
        self.fractions = {}
        for name in self.layers:
            c = graph.layer(name).c_in
            seen, keep = set(), []
            for f in sorted(cfg.fractions):
                if n_channels(f, c) not in seen:
                    seen.add(n_channels(f, c))
                    keep.append(f)
            self.fractions[name] = keep
        self._plans = {}  # combination -> MemoryPlan of its packed program
        self._cuts = {}  # combination -> layers[:cut] stay frozen (policy/features.py)
        self.features = FrozenFeatures(graph, cfg.input_dtype)
        self._compiled = {}  # (combination, config) -> Compiled, the most recent few

    def candidates(self) -> list:
        out = [Candidate(bias_n=n) for n in self.bias_depths]
        out += [Candidate(layer=name, fraction=f) for name in self.layers
                for f in self.fractions[name]]
        return out

    def combination_of(self, c: Candidate) -> Combination:
        return Combination(c.bias_n, tuple(c.fraction if name == c.layer else 0.0
                                           for name in self.layers))

    def baseline(self) -> Combination:
        return Combination(0, (0.0,) * len(self.layers))

    def policy(self, combo: Combination, note: str = "") -> Policy:
        weights = [(name, f, self.cfg.rule) for name, f in zip(self.layers, combo.fractions)
                   if f > 0]
        weights.append((self.head, 1.0, "first_k"))
        return make_policy(self.graph, bias_last_n=1 + combo.bias_n, weights=weights,
                           optimizer=self.cfg.optimizer(), note=note)

    def cut(self, combo: Combination) -> int:
        """combo leaves layers[:cut] frozen: its fine-tunes start from their output."""
        if combo not in self._cuts:
            updated = TrainPlan.from_policy(self.policy(combo)).updated_layers()
            lowest = min(i for i, ly in enumerate(self.graph.layers) if ly.name in updated)
            sample_bytes = np.prod(self.graph.input.shape) * (
                4 if self.cfg.input_dtype == "float32" else 1)
            self._cuts[combo] = cut_below(self.graph, lowest, max_bytes=sample_bytes)
        return self._cuts[combo]

    def compiled(self, combo: Combination):
        """The program combo fine-tunes with under the current config (its rate), from a cache:
        the graph above its cut (policy/features.py), without a streamed prefix or recomputes.
        Those change where bytes live, never which bytes a step gives (tests/test_stream.py),
        and the untiled program compiles in a tenth of the time and runs fewer ops."""
        key = (combo, dataclasses.astuple(self.cfg))
        if key not in self._compiled:
            if len(self._compiled) >= COMPILED_KEPT:
                del self._compiled[next(iter(self._compiled))]  # the oldest
            cut = self.cut(combo)
            self._compiled[key] = compile_model(
                self.features.suffix(cut), self.policy(combo),
                input_dtype=self.features.input_dtype_at(cut), tiling=None)
        return self._compiled[key]

    def samples_at(self, combo: Combination, data) -> tuple:
        """(x, y) as combo's fine-tune program takes them: x the features at its cut."""
        return self.features.features(self.cut(combo), data[0]), data[1]

    def prepare_features(self, *datasets) -> None:
        """The features at every candidate's cut, lowest cut first (each from the one below)."""
        combos = [self.baseline()] + [self.combination_of(c) for c in self.candidates()]
        for cut in sorted({self.cut(c) for c in combos}):
            for x, _ in datasets:
                self.features.features(cut, x)

    def fine_tune(self, combo: Combination, train, val, seeds) -> float:
        """combo's held-out accuracy after cfg.steps learn steps at cfg's rate."""
        return fine_tune(self.compiled(combo), self.samples_at(combo, train),
                         self.samples_at(combo, val), self.cfg.steps, seeds)

    def packed(self, combo: Combination):
        """combo compiled as `microtrain pack` compiles it (the memory plan a board gets)."""
        return compile_model(self.graph, self.policy(combo), input_dtype=self.cfg.input_dtype)

    def memory_plan(self, combo: Combination):
        """The memory plan of combo's packed program (it does not depend on the rate)."""
        if combo not in self._plans:
            self._plans[combo] = memory_plan(self.packed(combo))
        return self._plans[combo]

    def learn_bytes(self, combo: Combination) -> int:
        """Training memory in bytes, from the memory plan of the packed program (exact)."""
        return self.memory_plan(combo).learn_total


# ---- data and fine-tuning --------------------------------------------------------------------


def check_samples(graph: Int8Graph, x, y, input_dtype="float32"):
    """Shape x like the graph's input and y as class indices; clear errors otherwise."""
    x, y = np.asarray(x), np.asarray(y)
    shape = tuple(graph.input.shape)
    n_classes = graph.output.shape[-1]
    if x.ndim < 2 or int(np.prod(x.shape[1:])) != int(np.prod(shape)):
        raise MicrotrainError(f"data x has samples of shape {x.shape[1:]}, graph "
                              f"{graph.name!r} takes {shape}")
    if input_dtype == "int8" and x.dtype != np.int8:
        raise MicrotrainError(f"input dtype int8 needs int8 samples, data x is {x.dtype}")
    if y.ndim != 1:
        raise MicrotrainError(f"policy search needs class labels y of shape (n,), got {y.shape}")
    if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)) or y.min() < 0 \
            or y.max() >= n_classes:
        raise MicrotrainError(f"labels y must be integers in [0, {n_classes}) (the graph has "
                              f"{n_classes} outputs), found {y.min()}..{y.max()}")
    if input_dtype == "float32" and not np.all(np.isfinite(x)):
        raise MicrotrainError("data x holds NaN or infinite values")
    x = x.reshape((len(x),) + shape).astype(np.float32 if input_dtype == "float32" else np.int8)
    return x, y.astype(np.int64)


def split(x, y, val_fraction: float, seed: int):
    """A seeded (train, held-out) split; both parts at least one sample."""
    if len(x) < 2:
        raise MicrotrainError(f"policy search needs at least 2 samples, got {len(x)}")
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = min(len(x) - 1, max(1, int(round(val_fraction * len(x)))))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def sample_order(n: int, steps: int, seed: int) -> np.ndarray:
    """`steps` indices into n samples: seeded epochs of permutations, the same for every
    candidate, so runs differ only by what they update."""
    rng = np.random.default_rng(seed)
    epochs = -(-steps // n)
    return np.concatenate([rng.permutation(n) for _ in range(epochs)])[:steps]


def fine_tune(compiled, train, val, steps: int, seeds) -> float:
    """Mean held-out accuracy after `steps` learn steps from the graph's weights, per seed."""
    (xt, yt), (xv, yv) = train, val
    accs = []
    for seed in seeds:
        model = HostModel(compiled)
        for i in sample_order(len(xt), steps, seed):
            model.learn(xt[i], yt[i])
        accs.append(model.evaluate(xv, yv))
    return float(np.mean(accs))


# ---- the search ------------------------------------------------------------------------------


@dataclass
class Fit:
    """A combination that fits the budget: its summed gain, its exact bytes, and its measured
    accuracy once it has been fine-tuned."""

    combination: Combination
    predicted_gain: float
    learn_bytes: int
    accuracy: float | None = None


def best_combinations(space: Space, gains: dict, budget: int, k: int = 1, log=None):
    """The k combinations of the largest summed gain whose learn memory fits `budget`, best
    first (equal sums: fewer bytes first), and how many were compiled.

    gains: Candidate -> gain. Each dimension (the bias depth, each weight layer) picks one
    option; options with no positive gain are dropped (they cannot raise the sum). Combinations
    are walked best sum first with a heap (each dimension sorted, successors step one dimension
    to its next option), compiled exactly, and kept if they fit. Every visited combination is
    compiled: the arena planner is a heuristic (in-place ops, several greedy orders), so updating
    more can occasionally need a few bytes less, and skipping the extensions of an over-budget
    combination could miss one that fits."""
    # per dimension: (gain, choice) options, best first; "none" (gain 0) is always last
    dims = [sorted(((g, c.bias_n) for c, g in gains.items() if not c.layer and g > 0),
                   key=lambda o: -o[0]) + [(0.0, 0)]]
    for name in space.layers:
        dims.append(sorted(((g, c.fraction) for c, g in gains.items()
                            if c.layer == name and g > 0), key=lambda o: -o[0]) + [(0.0, 0.0)])

    def combo_of(idx):
        return Combination(dims[0][idx[0]][1], tuple(dims[i][j][1]
                                                     for i, j in enumerate(idx) if i > 0))

    def gain_of(idx):
        return sum(dims[i][j][0] for i, j in enumerate(idx))

    start = (0,) * len(dims)
    heap, seen = [(-gain_of(start), start)], {start}
    fits, compiled, visits = [], 0, 0
    while heap:
        neg, idx = heapq.heappop(heap)
        if len(fits) >= k and -neg < fits[-1].predicted_gain - 1e-12:
            break  # k found, and every later sum is lower: ties with the k-th were all seen
        visits += 1
        if visits > MAX_VISITS:
            raise MicrotrainError(f"search visited {MAX_VISITS} combinations; use fewer "
                                  "--weight-layers or --bias-layers")
        for i in range(len(idx)):
            if idx[i] + 1 < len(dims[i]):
                nxt = idx[:i] + (idx[i] + 1,) + idx[i + 1:]
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (-gain_of(nxt), nxt))
        combo = combo_of(idx)
        nbytes = space.learn_bytes(combo)
        compiled += 1
        if nbytes <= budget:
            fits.append(Fit(combo, -neg, nbytes))
    fits.sort(key=lambda f: (-round(f.predicted_gain, 9), f.learn_bytes))
    if log:
        log(f"search: {visits} combinations visited, {compiled} compiled, {len(fits[:k])} "
            f"best that fit kept")
    return fits[:k], compiled


def check_budget(space: Space, budget: int) -> int:
    """The baseline's learn bytes; a MicrotrainError naming both numbers if it does not fit."""
    base = space.learn_bytes(space.baseline())
    if base > budget:
        raise MicrotrainError(f"budget {format_kb(budget)} ({budget:,} B) cannot be met: "
                              f"last-layer update alone needs {format_kb(base)} ({base:,} B)")
    return base


@dataclass
class Contributions:
    """The measured gain of every candidate of a Space, and the data they were measured on."""

    space: Space
    train: tuple
    val: tuple
    seeds: list
    initial_accuracy: float  # not learning: the frozen model's held-out accuracy
    baseline_accuracy: float  # last layer only, after the short fine-tune
    baseline_bytes: int
    measured: list  # of Measured, in candidate order
    seconds: float = 0.0
    lr_trials: list = field(default_factory=list)  # (lr, accuracy, which policy), as tried
    budget: int | None = None  # candidates over it alone were not fine-tuned
    skipped: list = field(default_factory=list)  # (Candidate, learn bytes) over the budget


def measure_contributions(space: Space, x, y, log=None, budget: int | None = None
                          ) -> Contributions:
    """Fine-tune the baseline and each candidate on a train split, score on the held-out one.
    With a budget, a candidate whose training memory alone (with the baseline) exceeds it is
    not fine-tuned: no combination holding it can fit (listed in `skipped`)."""
    cfg, say = space.cfg, log or (lambda *_: None)
    t_start = time.perf_counter()
    x, y = check_samples(space.graph, x, y, cfg.input_dtype)
    train, val = split(x, y, cfg.val_fraction, cfg.seed)
    seeds = [cfg.seed + 1 + r for r in range(cfg.repeats)]
    candidates = space.candidates()
    say(f"data: {len(train[1])} train / {len(val[1])} held-out samples; {len(candidates)} "
        f"candidates, {cfg.steps} learn steps each x {cfg.repeats}")

    base = space.baseline()
    base_bytes = space.learn_bytes(base)
    space.prepare_features(train, val)
    initial = HostModel(space.compiled(base)).evaluate(*space.samples_at(base, val))
    say(f"not learning (frozen model): accuracy {initial:.3f}")
    lr_trials = choose_lr(space, train, val, seeds, say) if cfg.lrs else []
    cfg = space.cfg  # choose_lr replaced it with one at the chosen rate
    t = time.perf_counter()
    base_acc = space.fine_tune(base, train, val, seeds)
    say(f"baseline (last layer only): accuracy {base_acc:.3f} after fine-tune "
        f"({base_acc - initial:+.3f} vs not learning), {format_kb(base_bytes)}, "
        f"{time.perf_counter() - t:.2f} s")

    measured, skipped = [], []
    for i, c in enumerate(candidates, 1):
        t = time.perf_counter()
        combo = space.combination_of(c)
        nbytes = space.learn_bytes(combo)
        if budget is not None and nbytes > budget:
            skipped.append((c, nbytes))
            say(f"[{i}/{len(candidates)}] {c.label}: {format_kb(nbytes)}, over the budget "
                f"{format_kb(budget)} alone: not fine-tuned")
            continue
        acc = space.fine_tune(combo, train, val, seeds)
        m = Measured(c, acc, acc - base_acc, nbytes, time.perf_counter() - t)
        measured.append(m)
        say(f"[{i}/{len(candidates)}] {c.label}: accuracy {acc:.3f} (gain {m.gain:+.3f} vs "
            f"last layer, {acc - initial:+.3f} vs not learning), {format_kb(m.learn_bytes)}, "
            f"{m.seconds:.2f} s")
    return Contributions(space, train, val, seeds, initial, base_acc, base_bytes, measured,
                         time.perf_counter() - t_start, lr_trials, budget, skipped)


def choose_lr(space: Space, train, val, seeds, say) -> list:
    """Fine-tune the last layer at each of cfg.lrs; put the best rate (ties: the smaller) into
    space.cfg. Returns [(lr, accuracy, "last layer only")]."""
    trials = []
    for lr in space.cfg.lrs:
        space.cfg = dataclasses.replace(space.cfg, lr=lr)
        t = time.perf_counter()
        acc = space.fine_tune(space.baseline(), train, val, seeds)
        trials.append((lr, acc, "last layer only"))
        say(f"learning rate {lr:g}: last layer only accuracy {acc:.3f}, "
            f"{time.perf_counter() - t:.2f} s")
    best = max(trials, key=lambda t: (round(t[1], 9), -t[0]))[0]
    space.cfg = dataclasses.replace(space.cfg, lr=best)
    say(f"learning rate: {best:g} (best of {', '.join(f'{t[0]:g}' for t in trials)} on the "
        "last layer)")
    return trials


def choose(contrib: Contributions, budget: int, top: int = 3, log=None) -> SearchResult:
    """The best combination under `budget` bytes from measured contributions.

    top = 0: the largest summed gain, trusted as is (the paper's method). top = k >= 1: the k
    largest sums that fit are fine-tuned too, and the best measured accuracy among them, the
    baseline and each candidate alone that fits wins: gains do not really add up when several
    layers learn at once, and measured numbers beat a model of them."""
    space, cfg, say = contrib.space, contrib.space.cfg, log or (lambda *_: None)
    t_start = time.perf_counter()
    check_budget(space, budget)
    if contrib.budget is not None and budget > contrib.budget:
        raise MicrotrainError(f"contributions were measured for a budget of "
                              f"{format_kb(contrib.budget)}: candidates over it were not "
                              f"fine-tuned, so a budget of {format_kb(budget)} needs them "
                              "measured again")
    gains = {m.candidate: m.gain for m in contrib.measured}
    fits, n_compiled = best_combinations(space, gains, budget, max(1, top), say)
    base = Fit(space.baseline(), 0.0, contrib.baseline_bytes, contrib.baseline_accuracy)
    if top:
        for i, f in enumerate(fits, 1):
            if f.combination == base.combination:
                f.accuracy = base.accuracy
                continue
            t = time.perf_counter()
            f.accuracy = space.fine_tune(f.combination, contrib.train, contrib.val,
                                         contrib.seeds)
            say(f"check {i}/{len(fits)}: {describe(space.layers, f.combination)}: accuracy "
                f"{f.accuracy:.3f} (summed gains {f.predicted_gain:+.3f}), "
                f"{format_kb(f.learn_bytes)}, {time.perf_counter() - t:.2f} s")
        # every candidate alone was fine-tuned already: those that fit compete for free
        singles = [Fit(space.combination_of(m.candidate), m.gain, m.learn_bytes, m.accuracy)
                   for m in contrib.measured if m.learn_bytes <= budget]
        contenders = [base] + singles + fits
        best = max(contenders, key=lambda f: (round(f.accuracy, 9), -f.learn_bytes))
        if cfg.lrs:
            best = retry_lower_rates(space, contrib, best, say)
            cfg = space.cfg
    else:
        best = fits[0]
    note = (f"contribution search: budget {format_kb(budget)}, {cfg.steps} steps at lr "
            f"{cfg.lr:g}; not learning {contrib.initial_accuracy:.3f}, last layer only "
            f"{base.accuracy:.3f}, this "
            + (f"{best.accuracy:.3f} measured" if best.accuracy is not None else
               f"summed gains {best.predicted_gain:+.3f} (not measured)") + " on held-out data")
    result = SearchResult(space.policy(best.combination, note=note), budget, best.learn_bytes,
                          best.predicted_gain, contrib.initial_accuracy, base.accuracy,
                          contrib.baseline_bytes, contrib.measured, best.combination,
                          n_compiled, accuracy=best.accuracy,
                          plan=space.memory_plan(best.combination),
                          layers=space.layers, checked=fits if top else [],
                          n_train=len(contrib.train[1]), n_val=len(contrib.val[1]), config=cfg,
                          lr_trials=contrib.lr_trials, skipped=contrib.skipped)
    result.warning = not_learning_warning(result)
    if result.warning:
        say("WARNING: " + result.warning)
    result.seconds = contrib.seconds + time.perf_counter() - t_start
    return result


def retry_lower_rates(space: Space, contrib: Contributions, best: Fit, say) -> Fit:
    """The chosen combination fine-tuned again at the two tried rates just below the chosen
    one: a rate the last layer takes well can be too high when more layers learn (HAR's
    example policy: 0.845 at lr 0.05, 0.612 at 0.1; docs/policy.md). Keeps the best measured
    (ties: the higher rate, already chosen) and puts its rate into space.cfg."""
    lower = sorted(r for r in space.cfg.lrs if r < space.cfg.lr)[-2:]
    chosen_cfg, kept, best_acc = space.cfg, space.cfg, best.accuracy
    for lr in reversed(lower):
        space.cfg = dataclasses.replace(chosen_cfg, lr=lr)
        acc = space.fine_tune(best.combination, contrib.train, contrib.val, contrib.seeds)
        what = "chosen: " + describe(space.layers, best.combination)
        contrib.lr_trials.append((lr, acc, what))
        say(f"learning rate {lr:g} on the chosen policy: accuracy {acc:.3f} (at "
            f"{chosen_cfg.lr:g}: {best.accuracy:.3f})")
        if acc > best_acc:
            best_acc, kept = acc, space.cfg
    space.cfg = kept
    return dataclasses.replace(best, accuracy=best_acc)


def not_learning_warning(result: SearchResult) -> str | None:
    """The warning to print when the chosen policy is no better than not learning at all."""
    if result.beats_not_learning is not False:
        return None
    lower = result.config.lr / 10
    return (f"no policy beats not learning: the chosen one measures {result.accuracy:.3f}, the "
            f"frozen model {result.initial_accuracy:.3f} on the same held-out samples. "
            f"Learning at lr {result.config.lr:g} makes this model worse; try a lower rate "
            f"(--lr {lower:g}, or --lr auto), or more data or steps")


def search_policy(graph: Int8Graph, x, y, budget: int, cfg: SearchConfig | None = None,
                  log=None) -> SearchResult:
    """Measure each candidate's contribution, then choose the best combination under `budget`
    bytes of training memory. `log` (a print-like callable) gets progress lines."""
    cfg = cfg or SearchConfig()
    cfg.check()
    space = Space(graph, cfg)
    check_budget(space, budget)  # before any fine-tune: fail fast
    return choose(measure_contributions(space, x, y, log, budget), budget, cfg.top, log)


# ---- reports ---------------------------------------------------------------------------------


def format_table(result: SearchResult) -> str:
    frozen = result.initial_accuracy
    rows = [("candidate", "accuracy", "vs not learning", "gain", "bytes", "fits")]
    rows.append(("not learning (frozen)", f"{frozen:.3f}", "+0.000", "", "0", "yes"))
    rows.append(("baseline: last layer", f"{result.baseline_accuracy:.3f}",
                 f"{result.baseline_accuracy - frozen:+.3f}", "+0.000",
                 f"{result.baseline_bytes:,}", "yes"))
    for m in result.measured:
        rows.append((m.candidate.label, f"{m.accuracy:.3f}", f"{m.accuracy - frozen:+.3f}",
                     f"{m.gain:+.3f}", f"{m.learn_bytes:,}",
                     "yes" if m.learn_bytes <= result.budget else "no"))
    for c, nbytes in result.skipped:
        rows.append((c.label, "-", "-", "-", f"{nbytes:,}", "no (not fine-tuned)"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def describe(layers, combo: Combination) -> str:
    parts = [f"bias +{combo.bias_n}"] if combo.bias_n else []
    parts += [f"{name} x{_fraction_text(f)}" for name, f in zip(layers, combo.fractions) if f]
    return "last layer" + (" + " + ", ".join(parts) if parts else " only")


def format_summary(result: SearchResult) -> str:
    this = (f"this policy {result.accuracy:.3f}" if result.accuracy is not None else
            "this policy not measured (--top 0)")
    lines = [
        f"chosen: {describe(result.layers, result.chosen)} at lr {result.config.lr:g}",
        f"  training memory {format_kb(result.learn_bytes)} ({result.learn_bytes:,} B) of "
        f"budget {format_kb(result.budget)} ({result.budget:,} B)",
        f"  held-out accuracy: not learning {result.initial_accuracy:.3f}, last layer only "
        f"{result.baseline_accuracy:.3f}, {this}",
        f"  summed gains of its candidates over the last layer: {result.predicted_gain:+.3f} "
        "(what the search ranks by; not an accuracy)",
        f"  {len(result.measured)} candidates measured ({len(result.skipped)} over the budget "
        f"alone, not fine-tuned), {result.compiled_combinations} "
        f"combinations compiled, {len(result.checked)} fine-tuned to choose, "
        f"{result.seconds:.1f} s"]
    if result.warning:
        lines.append("WARNING: " + result.warning)
    return "\n".join(lines)


def to_json(result: SearchResult) -> dict:
    """The measured numbers, for a report file."""
    cfg = result.config
    return {
        "budget": result.budget, "learn_bytes": result.learn_bytes,
        "not_learning_accuracy": result.initial_accuracy,
        "baseline": {"accuracy": result.baseline_accuracy, "learn_bytes": result.baseline_bytes},
        "summed_gain": result.predicted_gain, "accuracy": result.accuracy,
        "beats_not_learning": result.beats_not_learning, "warning": result.warning,
        "lr_trials": [{"lr": lr, "accuracy": acc, "policy": what}
                      for lr, acc, what in result.lr_trials],
        "chosen": _combo_json(result.layers, result.chosen),
        "checked": [dict(_combo_json(result.layers, f.combination),
                         summed_gain=f.predicted_gain, learn_bytes=f.learn_bytes,
                         accuracy=f.accuracy) for f in result.checked],
        "candidates": [{"label": m.candidate.label, "bias_n": m.candidate.bias_n,
                        "layer": m.candidate.layer, "fraction": m.candidate.fraction,
                        "accuracy": m.accuracy, "gain": m.gain,
                        "vs_not_learning": m.accuracy - result.initial_accuracy,
                        "learn_bytes": m.learn_bytes,
                        "seconds": round(m.seconds, 3)} for m in result.measured],
        "over_budget_not_fine_tuned": [{"label": c.label, "bias_n": c.bias_n,
                                        "layer": c.layer, "fraction": c.fraction,
                                        "learn_bytes": nbytes} for c, nbytes in result.skipped],
        "samples": {"train": result.n_train, "held_out": result.n_val},
        "config": {"steps": cfg.steps, "lr": cfg.lr, "lrs_tried": list(cfg.lrs),
                   "momentum": cfg.momentum,
                   "rounding": cfg.rounding, "rule": cfg.rule, "repeats": cfg.repeats,
                   "seed": cfg.seed, "val_fraction": cfg.val_fraction, "top": cfg.top,
                   "input_dtype": cfg.input_dtype},
        "seconds": round(result.seconds, 2),
    }


def _combo_json(layers, combo: Combination) -> dict:
    return {"label": describe(layers, combo), "bias_n": combo.bias_n,
            "fractions": dict(zip(layers, combo.fractions))}
