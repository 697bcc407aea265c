# SPDX-License-Identifier: MIT
"""Damaged inputs to every host reader behind a CLI command: each is read or refused with a
MicrotrainError whose one-line message names the file, never another exception (issue 8 D8-D12).

A few hundred seeded cases per reader here; `make fuzz` runs FUZZ_CASES (1e5) of each.
"""

import io
import pickle
import random
import zipfile

import numpy as np
import pytest

from e2e_models import small_float_model, small_graph
from fuzzing import damaged, fuzz_cases, mutate, run_reader
from microtrain_tools.formats import model as mdl
from microtrain_tools.compiler import compile_model
from microtrain_tools.importers import paper_models
from microtrain_tools.formats.data_files import load_samples
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.importers.dispatch import import_model
from microtrain_tools.formats.int8_graph import load_graph, save_graph
from microtrain_tools.policy.definition import load_policy, make_policy, save_policy


def reader_of(tmp_path, suffix, read):
    """read(path) on a file holding the damaged bytes; a refusal must name that file in one line."""
    path = tmp_path / f"damaged{suffix}"

    def run(data):
        path.write_bytes(data)
        try:
            read(path)
        except MicrotrainError as err:
            text = str(err)
            if str(path) not in text or "\n" in text:
                raise AssertionError(f"refusal does not name the file in one line: {text!r}")
            raise

    return run


def fuzz(name, tmp_path, suffix, seeds, read, seed, default=300, inside_zip=False):
    n = fuzz_cases(default)
    cases = damaged(seeds, n, seed)
    if inside_zip:  # half the cases damage a member and zip it again: CRCs stay right
        cases = [c for pair in zip(cases, rezipped(seeds, n // 2, seed)) for c in pair]
    return run_reader(name, reader_of(tmp_path, suffix, read), cases, MicrotrainError).check()


def rezipped(seeds, n, seed):
    """Damage one member of a zip (.npz, .mtg) and write a well-formed zip around it."""
    rng = random.Random(seed)
    for i in range(n):
        with zipfile.ZipFile(io.BytesIO(rng.choice(seeds))) as z:
            members = {name: z.read(name) for name in z.namelist()}
        name = rng.choice(sorted(members))
        how, members[name] = mutate(rng, members[name], list(members.values()))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for member, data in members.items():
                z.writestr(member, data)
        yield f"zipped case {i} ({name}: {how})", buf.getvalue()


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_fuzz_sample_npz(tmp_path):
    rng = np.random.default_rng(0)
    seeds = [npz_bytes(x=rng.standard_normal((4, 6)).astype(np.float32), y=np.arange(4)),
             npz_bytes(x=np.zeros((2, 3), np.int8), y=np.eye(2, dtype=np.float32))]
    fuzz("samples .npz (learn, policy)", tmp_path, ".npz", seeds, load_samples, 1,
         inside_zip=True)


def test_fuzz_int8_graph_mtg(tmp_path):
    """`microtrain mem model.mtg`: the graph file, then the compiler's use of its arrays."""
    save_graph(small_graph(), tmp_path / "seed.mtg")

    def read(path):
        graph = load_graph(path)
        compile_model(graph, make_policy(graph, bias_last_n=1))

    fuzz(".mtg int8 graph", tmp_path, ".mtg", [(tmp_path / "seed.mtg").read_bytes()], read, 2,
         inside_zip=True)


def test_fuzz_float_model_and_quantizer(tmp_path):
    """`microtrain import model.npz --calib`: the float model file, then the quantizer."""
    mdl.save_model(small_float_model(), tmp_path / "seed.npz")
    calib = tmp_path / "calib.npz"
    calib.write_bytes(npz_bytes(x=np.random.default_rng(1).standard_normal((4, 8, 8, 2))
                                .astype(np.float32)))

    def read(path):
        import_model(path, calib=calib)

    fuzz("float model .npz + quantizer", tmp_path, ".npz", [(tmp_path / "seed.npz").read_bytes()],
         read, 3, default=150, inside_zip=True)


def test_fuzz_policy_json(tmp_path):
    graph = small_graph()
    save_policy(make_policy(graph, bias_last_n=2, weights=[("head", 0.5, "first_k")]),
                tmp_path / "seed.json")
    fuzz("policy .json", tmp_path, ".json", [(tmp_path / "seed.json").read_bytes()],
         lambda p: load_policy(p, graph), 4)


def pkl_zip(obj) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(obj, protocol=2))
        z.writestr("archive/version", b"3\n")
    return buf.getvalue()


def test_fuzz_paper_pkl(tmp_path):
    obj = {"first_conv": {"weight": np.arange(24, dtype=np.int8).reshape(2, 3, 2, 2)},
           "blocks": [{"x": np.ones(3, np.float32)}], "classifier": {"b": [1, 2.5, "x"]}}
    fuzz("paper model .pkl", tmp_path, ".pkl", [pkl_zip(obj)], paper_models.load_pickle, 5)


def test_a_zip_bomb_pkl_is_refused_before_it_is_read(tmp_path):
    """A data.pkl that inflates past the bound is refused from the zip's directory; its size
    field cannot be trusted either: reading stops at the bound."""
    path = tmp_path / "bomb.pkl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", bytes(paper_models.MAX_PICKLE_BYTES + 1))
    with pytest.raises(MicrotrainError, match=f"{path}.*larger than"):
        paper_models.load_pickle(path)


def test_a_pickle_cannot_ask_for_a_huge_array(tmp_path):
    shape_bomb = (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01"
                  b"J\xff\xff\xff\x3f\x85q\x02C\x01bq\x03\x87q\x04Rq\x05.")
    with pytest.raises(MicrotrainError, match="array of"):
        paper_models.loads_restricted(shape_bomb)


@pytest.mark.parametrize("value", [1e38, -3e37])
def test_huge_weights_are_refused_naming_the_file_and_layer(tmp_path, value):
    m = small_float_model()
    m.layers[0].params["weight"].flat[0] = value
    mdl.save_model(m, tmp_path / "huge.npz")
    calib = tmp_path / "calib.npz"
    calib.write_bytes(npz_bytes(x=np.zeros((2, 8, 8, 2), np.float32)))
    with pytest.raises(MicrotrainError, match=r"huge.npz: layer 'conv1': weights too large"):
        import_model(tmp_path / "huge.npz", calib=calib)


def test_every_short_array_in_an_mtg_is_refused_at_load(tmp_path):
    """Each array of each layer cut by one element (or to one): load refuses it, naming the
    file and the layer, before the compiler indexes past its end."""
    graph = small_graph()
    path = tmp_path / "short.mtg"
    tried = 0
    for ly in graph.layers:
        for key, arr in ly.arrays.items():
            for cut in {1, arr.shape[0] - 1} - {arr.shape[0]}:
                g = small_graph()
                layer = next(x for x in g.layers if x.name == ly.name)
                layer.arrays[key] = arr[:cut]
                save_graph(g, path)  # save_graph writes what it is given
                with pytest.raises(MicrotrainError, match=f"{path}: layer {ly.name!r}"):
                    load_graph(path)
                tried += 1
    assert tried > 30

