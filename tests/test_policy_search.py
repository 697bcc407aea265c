# SPDX-License-Identifier: MIT
"""Policy search by contribution analysis: budgets, the exact memory of every combination, the
best-first walk against brute force, a domain shift only lower layers can fix, and the CLI."""

import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from e2e_models import samples, small_graph
from microtrain_tools.policy import search as ps
from microtrain_tools.cli import main as cli_main
from microtrain_tools.compiler import compile_model
from microtrain_tools.compiler.memory import memory_plan
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.formats.int8_graph import save_graph
from microtrain_tools.policy.definition import load_policy
from microtrain_tools.quantize.ptq import quantize
from microtrain_tools.sim.simulate import HostModel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph():
    return small_graph(0)


@pytest.fixture(scope="module")
def space3(graph):
    """The small graph's space with 3 weight layers; it caches the bytes of what it compiled."""
    return ps.Space(graph, ps.SearchConfig(weight_layers=3))


@pytest.fixture(scope="module")
def demo():
    sys.path.insert(0, str(ROOT / "examples" / "demo"))
    try:
        import pretrain
    finally:
        sys.path.pop(0)
    return pretrain


def learn_bytes(graph, policy):
    return memory_plan(compile_model(graph, policy)).learn_total


# ---- budgets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text, nbytes", [
    ("96KB", 98304), ("96K", 98304), ("96kb", 98304), ("96 KiB", 98304), ("98304", 98304),
    ("98304B", 98304), ("0.1MB", 104857), ("1.5KB", 1536), ("2M", 2 * 1024 * 1024),
    (4096, 4096),
])
def test_budget_parses_with_kb_1024(text, nbytes):
    assert ps.parse_budget(text) == nbytes


@pytest.mark.parametrize("text", ["", "KB", "ninety", "96GB", "-5KB", "0", "0.0001", "9 6K"])
def test_bad_budget_is_named(text):
    with pytest.raises(MicrotrainError, match="budget"):
        ps.parse_budget(text)


def test_format_kb():
    assert ps.format_kb(8192) == "8 KB"
    assert ps.format_kb(12595) == "12.3 KB"


def test_impossible_budget_names_both_numbers(graph):
    base = learn_bytes(graph, ps.Space(graph, ps.SearchConfig()).policy(
        ps.Combination(0, (0.0,) * 4)))
    x, y = samples(40)
    with pytest.raises(MicrotrainError) as err:
        ps.search_policy(graph, x, y, base - 1)
    msg = str(err.value)
    assert f"budget {ps.format_kb(base - 1)}" in msg and "cannot be met" in msg, msg
    assert f"last-layer update alone needs {ps.format_kb(base)} ({base:,} B)" in msg, msg


def test_bad_data_is_named(graph):
    x, y = samples(40)
    budget = 1 << 20
    with pytest.raises(MicrotrainError, match="shape"):
        ps.search_policy(graph, x[:, :4], y, budget)
    with pytest.raises(MicrotrainError, match=r"labels y must be integers in \[0, 5\)"):
        ps.search_policy(graph, x, y + 5, budget)
    with pytest.raises(MicrotrainError, match="class labels"):
        ps.search_policy(graph, x, np.eye(5)[y], budget)
    with pytest.raises(MicrotrainError, match="at least 2 samples"):
        ps.search_policy(graph, x[:1], y[:1], budget)
    with pytest.raises(MicrotrainError, match="steps"):
        ps.search_policy(graph, x, y, budget, ps.SearchConfig(steps=0))


# ---- the space and the walk ------------------------------------------------------------------


def test_space_candidates_skip_fractions_that_select_the_same_channels(graph):
    space = ps.Space(graph, ps.SearchConfig())
    assert space.head == "head" and space.layers == ["conv1", "expand", "dw", "project"]
    assert space.bias_depths == [1, 2, 3, 4]
    # conv1 has 2 input channels: 1/8, 1/4 and 1/2 all take one channel, measured once
    assert space.fractions["conv1"] == [0.125, 1.0]
    assert space.fractions["expand"] == [0.125, 0.25, 0.5, 1.0]
    p = space.policy(ps.Combination(1, (0.0, 0.5, 0.0, 0.0)))
    assert p.bias_layers == ["expand", "project", "head"]
    assert [(w.layer, w.channels) for w in p.weights] == [("expand", [0, 1, 2, 3]),
                                                         ("head", list(range(8)))]


def test_bias_depths_thin_out_on_deep_graphs():
    assert ps.bias_depths(0) == [] and ps.bias_depths(3) == [1, 2, 3]
    assert ps.bias_depths(40) == [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 40]


def all_combinations(space):
    dims = [[0] + space.bias_depths] + [[0.0] + space.fractions[n] for n in space.layers]
    return [ps.Combination(c[0], tuple(c[1:])) for c in itertools.product(*dims)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_best_first_walk_equals_brute_force(space3, seed):
    space = space3
    rng = np.random.default_rng(seed)
    gains = {c: float(rng.uniform(-0.05, 0.1)) for c in space.candidates()}
    combos = all_combinations(space)

    def total(combo):
        g = gains.get(ps.Candidate(bias_n=combo.bias_n), 0.0) if combo.bias_n else 0.0
        for name, f in zip(space.layers, combo.fractions):
            g += gains[ps.Candidate(layer=name, fraction=f)] if f else 0.0
        return g

    base = space.learn_bytes(space.baseline())
    biggest = max(space.learn_bytes(c) for c in combos)
    for budget in np.linspace(base, biggest, 6).astype(int):
        fits, _ = ps.best_combinations(space, gains, int(budget), k=1)
        best = max(total(c) for c in combos if space.learn_bytes(c) <= budget)
        assert fits[0].learn_bytes <= budget
        assert fits[0].predicted_gain == pytest.approx(best), (budget, fits[0])
        assert total(fits[0].combination) == pytest.approx(best)


def test_chosen_policy_fits_and_is_exact(graph):
    x, y = samples(120, seed=4)
    cfg = ps.SearchConfig(steps=60, weight_layers=2)
    space = ps.Space(graph, cfg)
    contrib = ps.measure_contributions(space, x, y)
    assert len(contrib.measured) == len(space.candidates())
    for budget in (contrib.baseline_bytes, 2048, 4096):
        result = ps.choose(contrib, budget)
        compiled = compile_model(graph, result.policy)
        assert memory_plan(compiled).learn_total == result.learn_bytes <= budget
        assert result.accuracy >= result.baseline_accuracy
    # a budget that fits only the baseline gives the baseline
    only = ps.choose(contrib, contrib.baseline_bytes, top=0)
    assert only.chosen == space.baseline() and only.accuracy is None


def test_candidates_over_the_budget_are_never_fine_tuned(graph, monkeypatch):
    x, y = samples(60, seed=5)
    space = ps.Space(graph, ps.SearchConfig(steps=5, weight_layers=2))
    sizes = {c: space.learn_bytes(space.combination_of(c)) for c in space.candidates()}
    budget = sorted(sizes.values())[len(sizes) // 2]  # about half the candidates fit alone
    tuned = []
    real = ps.fine_tune

    def counting(compiled, *args):
        # the fine-tune runs the untiled program; its combination's packed bytes are the budget's
        combo = next(key[0] for key, c in space._compiled.items() if c is compiled)
        tuned.append(space.learn_bytes(combo))
        return real(compiled, *args)

    monkeypatch.setattr(ps, "fine_tune", counting)
    contrib = ps.measure_contributions(space, x, y, budget=budget)
    over = {c for c, n in sizes.items() if n > budget}
    assert over and {c for c, _ in contrib.skipped} == over
    assert {m.candidate for m in contrib.measured} == set(sizes) - over
    assert all(n <= budget for n in tuned), "a fine-tune of a program over the budget"
    over_combos = {space.combination_of(c) for c in over}
    assert not over_combos & {key[0] for key in space._compiled}, (
        "a program to fine-tune was compiled for a candidate over the budget")
    result = ps.choose(contrib, budget)
    assert result.learn_bytes <= budget and len(result.skipped) == len(over)
    assert "not fine-tuned" in ps.format_table(result)
    with pytest.raises(MicrotrainError, match="measured again"):
        ps.choose(contrib, budget + 1)


def test_a_combination_is_compiled_once_per_rate(graph, monkeypatch):
    space = ps.Space(graph, ps.SearchConfig(weight_layers=2))
    calls = []
    real = ps.compile_model
    monkeypatch.setattr(ps, "compile_model", lambda *a, **k: calls.append(1) or real(*a, **k))
    combo = space.combination_of(space.candidates()[-1])
    first = space.compiled(combo)
    assert space.compiled(combo) is first and len(calls) == 1
    assert space.learn_bytes(combo) and space.learn_bytes(combo) and len(calls) == 2  # packed once
    space.cfg = ps.dataclasses.replace(space.cfg, lr=space.cfg.lr / 2)
    assert space.compiled(combo) is not first and len(calls) == 3
    space.learn_bytes(combo)
    assert len(calls) == 3, "the memory of a combination does not depend on the rate"


def test_choosing_again_compiles_nothing(graph, monkeypatch):
    """Programs and memory plans are kept: a second choice over the same contributions
    (another --top, the same budget) compiles nothing, and the chosen policy's memory plan is
    the one its figure came from."""
    x, y = samples(60, seed=7)
    space = ps.Space(graph, ps.SearchConfig(steps=20, weight_layers=2))
    contrib = ps.measure_contributions(space, x, y)
    first = ps.choose(contrib, 4096)
    calls = []
    real = ps.compile_model
    monkeypatch.setattr(ps, "compile_model", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = ps.choose(contrib, 4096)
    ps.choose(contrib, 4096, top=0)
    assert not calls, "a program or memory plan compiled twice"
    assert again.chosen == first.chosen and again.plan is space.memory_plan(first.chosen)


def test_fine_tunes_run_the_graph_above_the_cut_and_bytes_come_from_the_packed_one():
    """The search fine-tunes on the program of the layers above the combination's cut, from
    the features there (policy/features.py), untiled (the same bytes a step, fewer ops, a
    tenth of the compile time), and reports the memory of the program `microtrain pack`
    builds. mcunet-5fps: its packed programs stream the frozen prefix."""
    from microtrain_tools.importers.paper_models import load_paper_model
    from shared_data import shared_data

    mcunet = load_paper_model("mcunet-5fps",
                              path=shared_data("paper_models") / "mcunet-5fps.pkl")
    space = ps.Space(mcunet, ps.SearchConfig(weight_layers=2, input_dtype="int8"))
    combo = space.combination_of(space.candidates()[-1])
    tuned, packed = space.compiled(combo), space.packed(combo)
    cut = space.cut(combo)
    assert cut > 0 and len(tuned.graph.layers) == len(mcunet.layers) - cut
    assert tuned.tiling is None and packed.tiling is not None
    assert space.learn_bytes(combo) == memory_plan(packed).learn_total
    rng = np.random.default_rng(9)
    xs = rng.integers(-128, 128, (3, *mcunet.input.shape), dtype=np.int8)
    labels = [3, 7, 1]
    features, _ = space.samples_at(combo, (xs, labels))
    a, b = HostModel(tuned), HostModel(packed)
    for x, f, label in zip(xs, features, labels):
        a.learn(f, label)
        b.learn(x, label)
        assert a.out.tobytes() == b.out.tobytes()
    assert a.params.tobytes() == b.params.tobytes()


# ---- a task where lower layers matter --------------------------------------------------------


def shifted(x, d=1):
    """The same digits seen by a sensor moved d pixels down and right."""
    out = np.zeros_like(x)
    out[:, d:, d:] = x[:, :-d, :-d]
    return out


@pytest.fixture(scope="module")
def digits(demo):
    model = demo.pretrain(epochs=8, log=None)
    (xtr, ytr), (xte, yte) = demo.digits_split()
    xc, _ = demo.only(xtr, ytr, demo.PRETRAIN_CLASSES)
    graph, _ = quantize(model, xc[:200])
    classes = demo.PRETRAIN_CLASSES
    return graph, demo.only(shifted(xtr), ytr, classes), demo.only(shifted(xte), yte, classes)


def test_domain_shift_search_beats_last_layer_on_unseen_data(digits):
    """Pretrained on digits 0-5, fine-tuned on the same digits shifted by a pixel: features
    below the head must move. The chosen policy, fine-tuned the same way, must do at least as
    well as last-layer-only on test images the search never saw (measured: 0.84 vs 0.73)."""
    graph, (x, y), (xt, yt) = digits
    budget = ps.parse_budget("8KB")
    cfg = ps.SearchConfig(steps=300, weight_layers=3)
    result = ps.search_policy(graph, x, y, budget, cfg)
    compiled = compile_model(graph, result.policy)
    assert memory_plan(compiled).learn_total == result.learn_bytes <= budget
    assert result.chosen != ps.Space(graph, cfg).baseline(), ps.format_table(result)
    seeds = [cfg.seed + 1]
    train = ps.split(*ps.check_samples(graph, x, y), cfg.val_fraction, cfg.seed)[0]
    xt, yt = ps.check_samples(graph, xt, yt)
    chosen = ps.fine_tune(compiled, train, (xt, yt), cfg.steps, seeds)
    last = ps.fine_tune(compile_model(graph, ps.Space(graph, cfg).policy(
        ps.Space(graph, cfg).baseline())), train, (xt, yt), cfg.steps, seeds)
    assert chosen >= last, (chosen, last, ps.format_table(result))
    assert result.accuracy > result.baseline_accuracy, ps.format_summary(result)


# ---- the command -----------------------------------------------------------------------------


def test_cli_search_end_to_end(graph, tmp_path, capsys):
    save_graph(graph, tmp_path / "g.mtg")
    x, y = samples(80, seed=6)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    out, report = tmp_path / "p.json", tmp_path / "r.json"
    cli_main(["policy", "--budget", "3KB", "--data", str(tmp_path / "d.npz"), "--graph",
              str(tmp_path / "g.mtg"), "-o", str(out), "--report", str(report), "--steps", "40",
              "--weight-layers", "2"])
    text = capsys.readouterr().out
    assert "baseline (last layer only)" in text and "TOTAL training memory" in text, text
    policy = load_policy(out, graph)
    assert learn_bytes(graph, policy) <= 3 * 1024
    doc = json.loads(report.read_text())
    assert doc["budget"] == 3072 and doc["learn_bytes"] == learn_bytes(graph, policy)
    assert len(doc["candidates"]) == len(ps.Space(graph, ps.SearchConfig(
        weight_layers=2)).candidates())
    # the subcommand spelling, then show with its memory plan
    cli_main(["policy", "search", "--budget", "3072", "--data", str(tmp_path / "d.npz"),
              "--graph", str(tmp_path / "g.mtg"), "-o", str(out), "--steps", "20", "--top", "0"])
    cli_main(["policy", "show", str(out), "--graph", str(tmp_path / "g.mtg")])
    text = capsys.readouterr().out
    assert "contribution search" in text and "TOTAL training memory" in text, text


def test_cli_errors_are_clean(graph, tmp_path, capsys):
    save_graph(graph, tmp_path / "g.mtg")
    x, y = samples(20)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    args = ["--data", str(tmp_path / "d.npz"), "--graph", str(tmp_path / "g.mtg")]
    with pytest.raises(SystemExit):
        cli_main(["policy", "--budget", "100"] + args)
    assert "cannot be met: last-layer update alone needs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["policy", "--budget", "lots"] + args)
    assert "is not a size" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["policy", "search", "--budget", "8KB"])
    assert "--graph" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["policy", "--budget", "8KB", "show", "p.json"])
    assert "search options" in capsys.readouterr().err
    # `--budget 1 KiB` in a shell: the unit lands where a subcommand goes (issue 9, trap 6).
    with pytest.raises(SystemExit):
        cli_main(["policy", "--budget", "1", "KiB"] + args)
    assert "write the size as one word, --budget 1KiB" in capsys.readouterr().err


# ---- not learning as the bar; the learning rate (issue 9, trap 3) ----------------------------


@pytest.fixture(scope="module")
def digits_seen(demo, digits):
    """The pretraining task itself (digits 0-5, unshifted): the frozen model is already good,
    so a learning rate far too high can only make it worse."""
    (xtr, ytr), _ = demo.digits_split()
    return digits[0], demo.only(xtr, ytr, demo.PRETRAIN_CLASSES)


def test_search_says_loudly_when_nothing_beats_not_learning(digits_seen, tmp_path, capsys):
    graph, (x, y) = digits_seen
    x, y = x[:300], y[:300]
    cfg = ps.SearchConfig(steps=150, weight_layers=1, lr=20.0, top=1)
    result = ps.search_policy(graph, x, y, ps.parse_budget("8KB"), cfg)
    assert result.accuracy < result.initial_accuracy, ps.format_summary(result)
    assert result.beats_not_learning is False
    assert "no policy beats not learning" in result.warning and "lower rate" in result.warning
    summary = ps.format_summary(result)
    assert "WARNING: no policy beats not learning" in summary
    assert f"not learning {result.initial_accuracy:.3f}" in summary
    doc = ps.to_json(result)
    assert doc["beats_not_learning"] is False and doc["warning"] == result.warning
    assert doc["not_learning_accuracy"] == result.initial_accuracy
    assert all("vs_not_learning" in c for c in doc["candidates"])
    table = ps.format_table(result)
    assert table.splitlines()[2].startswith("not learning (frozen)"), table
    # the CLI prints it last, on stderr
    save_graph(graph, tmp_path / "g.mtg")
    np.savez(tmp_path / "d.npz", x=x, y=y)
    cli_main(["policy", "--budget", "8KB", "--data", str(tmp_path / "d.npz"), "--graph",
              str(tmp_path / "g.mtg"), "-o", str(tmp_path / "p.json"), "--steps", "150",
              "--weight-layers", "1", "--lr", "20", "--top", "1"])
    captured = capsys.readouterr()
    assert "WARNING: no policy beats not learning" in captured.err, captured


def test_summed_gain_is_not_printed_as_an_accuracy(digits_seen):
    """The search's ranking number (baseline + summed gains) once read 'predicted 2.142' beside
    accuracies: now it is named as a sum of gains."""
    graph, (x, y) = digits_seen
    result = ps.search_policy(graph, x[:200], y[:200], ps.parse_budget("8KB"),
                              ps.SearchConfig(steps=60, weight_layers=1, top=1))
    summary = ps.format_summary(result)
    assert "predicted" not in summary
    assert f"summed gains of its candidates over the last layer: " \
           f"{result.predicted_gain:+.3f} (what the search ranks by; not an accuracy)" in summary
    assert "predicted" not in result.policy.note


def test_lr_auto_tries_rates_and_keeps_the_best(digits):
    """--lr auto: every rate of the grid on the last layer, then the chosen policy at the two
    rates below the best; the policy written carries the rate that measured best."""
    graph, (x, y), _ = digits
    cfg = ps.SearchConfig(steps=150, weight_layers=1, lrs=ps.LR_GRID, top=1)
    result = ps.search_policy(graph, x[:300], y[:300], ps.parse_budget("8KB"), cfg)
    first = [t for t in result.lr_trials if t[2] == "last layer only"]
    assert [t[0] for t in first] == list(ps.LR_GRID)
    best_first = max(first, key=lambda t: (round(t[1], 9), -t[0]))
    retried = [t for t in result.lr_trials if t[2] != "last layer only"]
    assert all(t[0] < best_first[0] for t in retried) and len(retried) <= 2
    assert result.policy.optimizer.lr == result.config.lr
    assert result.accuracy == max([result.accuracy] + [t[1] for t in retried])
    assert result.beats_not_learning, ps.format_summary(result)
    with pytest.raises(MicrotrainError, match="learning rates"):
        ps.SearchConfig(lrs=(0.01, -1.0)).check()
