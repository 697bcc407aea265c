# SPDX-License-Identifier: MIT
"""The manifest chain (python/microtrain/integrity.py), run by the unix port on a packed dist/:
every file load() imports or opens is listed and checked before any of them is imported; a
missing, damaged or foreign manifest is an error naming it; and no file is read whole."""

import shutil
import struct

import pytest

from e2e_models import small_graph
from microtrain_tools.bundle.boards import load_board
from microtrain_tools.compiler import compile_model
from microtrain_tools.device.micropython_runner import run_script
from microtrain_tools.bundle.pack import adler_halves, make_bundle, pack
from microtrain_tools.policy.definition import make_policy

LOAD = ("try:\n    import microtrain\n    microtrain.load('small')\n"
        "except ValueError as err:\n    print('refused', err)\nelse:\n    print('loaded')\n")


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    graph = small_graph()
    folder = tmp_path_factory.mktemp("packs")
    compiled = compile_model(graph, make_policy(graph, bias_last_n=2))
    pack(make_bundle(compiled, "small"), load_board("unix"), folder / "small",
         log=lambda *a: None)
    other = compile_model(graph, make_policy(graph, bias_last_n=1))
    pack(make_bundle(other, "other"), load_board("unix"), folder / "other", log=lambda *a: None)
    return folder


@pytest.fixture
def dist(packed, tmp_path):
    target = tmp_path / "dist"
    shutil.copytree(packed / "small", target)
    return target


def load(dist, micropython, script=LOAD):
    (dist / "run.py").write_text(script)
    out = run_script(dist / "run.py", path=[dist], cwd=dist,
                     micropython=micropython).check().stdout.strip()
    return out.replace(str(dist) + "/", "")  # paths as the board shows them, relative


def flip(path, where=None):
    data = bytearray(path.read_bytes())
    data[len(data) // 2 if where is None else where] ^= 0x55
    path.write_bytes(bytes(data))


def test_intact_dist_loads(dist, micropython):
    assert load(dist, micropython) == "loaded"


def test_manifest_lists_every_file_but_itself(dist):
    from microtrain_tools.bundle.romfs import ROMFS_IMAGE

    body = (dist / "microtrain" / "manifest.bin").read_bytes()[16:]
    names, pos = [], 0
    while pos < len(body):
        n = body[pos]
        names.append(body[pos + 1:pos + 1 + n].decode())
        pos += 1 + n + 8
    on_disk = sorted(p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file())
    assert sorted(names + ["microtrain/manifest.bin"]) == [
        n for n in on_disk if n != ROMFS_IMAGE]


@pytest.mark.parametrize("name", ["microtrain/model.mpy", "microtrain/state.mpy",
                                  "small.weights", "small.mpy", "_microtrain.mpy"])
def test_a_damaged_packed_file_is_refused_by_name(dist, micropython, name):
    flip(dist / name, where=-3 if name.startswith("microtrain/") else None)
    assert load(dist, micropython) == f"refused {name} is damaged: checksum differs from the " \
                                      "packed file"


@pytest.mark.parametrize("name", ["microtrain/__init__.py", "microtrain/integrity.py"])
def test_the_root_of_trust_checks_itself_after_import(dist, micropython, name):
    """These two run before anything can be checked (integrity.py: chain of trust), so they
    ship as source and each checks itself as it is imported (its `_SELF` line, written by
    pack): damage that still compiles (here a comment appended) is refused by name before
    anything else runs; damage that does not is a SyntaxError (tests/test_fuzz_load.py)."""
    path = dist / name
    path.write_bytes(path.read_bytes() + b"# appended\n")
    assert load(dist, micropython) == f"refused {name} is damaged: deploy it again"


def test_the_root_of_trust_ships_as_source_and_the_rest_compiled(dist):
    package = sorted(p.name for p in (dist / "microtrain").iterdir())
    assert package == ["__init__.py", "integrity.py", "manifest.bin", "model.mpy", "state.mpy"]


def test_a_cut_package_file_is_refused(dist, micropython):
    path = dist / "microtrain" / "model.mpy"
    path.write_bytes(path.read_bytes()[:-40])
    assert load(dist, micropython).startswith("refused microtrain/model.mpy is truncated")


def test_a_missing_manifest_is_an_error(dist, micropython):
    (dist / "microtrain" / "manifest.bin").unlink()
    assert load(dist, micropython) == ("refused microtrain/manifest.bin is missing: deploy the "
                                       "whole dist folder")


@pytest.mark.parametrize("where", [0, 6, 20, 25, -1])  # magic, count, a name, a size, the end
def test_a_damaged_manifest_is_an_error(dist, micropython, where):
    flip(dist / "microtrain" / "manifest.bin", where)
    out = load(dist, micropython)
    assert out == ("refused microtrain/manifest.bin is damaged or not a microtrain manifest "
                   "(deploy it again)"), out


def test_a_cut_or_extended_manifest_is_an_error(dist, micropython):
    path = dist / "microtrain" / "manifest.bin"
    whole = path.read_bytes()
    for data in (whole[:10], whole[:-1], whole + b"\0"):
        path.write_bytes(data)
        assert load(dist, micropython).startswith("refused microtrain/manifest.bin is damaged")


def test_a_renamed_entry_with_a_valid_checksum_is_refused(dist, micropython):
    """A manifest whose body is consistent but lists another name (a damaged name written back
    with its checksum, or a hand-edited manifest): the file it misses is named."""
    path = dist / "microtrain" / "manifest.bin"
    data = bytearray(path.read_bytes())
    at = data.index(b"small.mpy")
    data[at:at + 5] = b"smalL"
    a, b = adler_halves(bytes(data[16:]))
    data[8:12] = struct.pack("<HH", a, b)
    path.write_bytes(bytes(data))
    assert load(dist, micropython) == ("refused microtrain/manifest.bin does not list small.mpy:"
                                       " packed for another model? (pack and deploy again)")


def test_a_foreign_manifest_is_refused(dist, packed, micropython):
    shutil.copy(packed / "other" / "microtrain" / "manifest.bin", dist / "microtrain")
    assert load(dist, micropython).startswith(
        "refused microtrain/manifest.bin does not list small.mpy")


def test_a_manifest_of_the_same_model_packed_differently_is_refused(dist, packed, micropython):
    # Same name, other weights: the manifest names small.weights but with other bytes.
    graph = small_graph()
    other = compile_model(graph, make_policy(graph, bias_last_n=3))
    pack(make_bundle(other, "small"), load_board("unix"), dist.parent / "again",
         log=lambda *a: None)
    shutil.copy(dist.parent / "again" / "small.mpy", dist / "small.mpy")
    assert load(dist, micropython).startswith("refused small.mpy is truncated or wrong: ")


def test_a_source_file_shadowing_the_bundle_is_refused(dist, micropython):
    (dist / "small.py").write_text("WEIGHTS_SIZE = 0\n")
    assert load(dist, micropython).startswith("refused small.py would be imported instead")


# Every open() of the package recorded: a wrapper file that logs read sizes. Installed as
# builtins.open before `import microtrain`, so integrity.py and model.py use it.
RECORD_READS = """
import builtins
_open = open
LOG = []
class Recorded:
    def __init__(self, path, f):
        self.path, self.f = path, f
    def read(self, n=-1):
        data = self.f.read(n)
        LOG.append((self.path, "read", n, len(data)))
        return data
    def readinto(self, buf):
        n = self.f.readinto(buf)
        LOG.append((self.path, "readinto", len(buf), n))
        self.last = buf
        return n
    def seek(self, *a):
        return self.f.seek(*a)
    def close(self):
        self.f.close()
    def __enter__(self):
        return self
    def __exit__(self, *a):
        self.f.close()
def recording_open(path, mode="r"):
    f = Recorded(path, _open(path, mode))
    FILES.append(f)
    return f
FILES = []
builtins.open = recording_open
import microtrain
m = microtrain.load("small")
builtins.open = _open
weights_reads = [f for f in FILES if f.path.endswith(".weights") and hasattr(f, "last")
                 and f.last is m._weights]
for path, how, asked, got in LOG:
    into_weights = how == "readinto" and path.endswith(".weights") and asked == len(m._weights)
    print(path, how, asked, got, "into-the-model's-weights" if into_weights else "")
print("weights buffer is the model's", len(weights_reads))
print("memory", sorted(m.memory().items()))
"""


def test_load_reads_no_file_whole(dist, micropython):
    """Every read of load() is a chunk of at most 512 bytes, but one: the weights read once
    into the model's own buffer (a normal filesystem has no mapped files; from ROMFS there
    is no read at all, tests/test_romfs.py)."""
    out = load(dist, micropython, RECORD_READS).splitlines()
    reads = [line.split() for line in out[:-2]]
    assert reads, "nothing was read: the recorder is not in use"
    whole = [r for r in reads if (int(r[2]) < 0 or int(r[2]) > 512)
             and r[-1] != "into-the-model's-weights"]
    assert not whole, f"whole-file or large reads: {whole}"
    into = [r for r in reads if r[-1] == "into-the-model's-weights"]
    assert len(into) == 1 and out[-2] == "weights buffer is the model's 1", out
    checked = {r[0].split("/")[-1] for r in reads}
    assert {"manifest.bin", "small.mpy", "small.weights", "_microtrain.mpy", "model.mpy",
            "state.mpy", "__init__.py", "integrity.py"} <= checked


def test_memory_reports_every_heap_cost(dist, micropython):
    from microtrain_tools.bundle.pack import native_code_size

    out = load(dist, micropython, RECORD_READS).splitlines()[-1]
    memory = dict(eval(out[len("memory "):]))  # noqa: S307 - our own script's output
    assert set(memory) == {"arena", "params", "io", "weights", "bundle", "native_code"}
    assert memory["weights"] == (dist / "small.weights").stat().st_size  # read into RAM here
    assert memory["native_code"] == native_code_size(dist / "_microtrain.mpy") > 0
    assert memory["bundle"] > len(memory) * 8  # measured import cost: module dict and bytes


def test_check_takes_input_sizes_instead_of_buffers(dist, micropython):
    """Model.__init__ checks the programs with x given by its size: no input-sized buffer."""
    out = load(dist, micropython, """
import microtrain, _microtrain
m = microtrain.load("small")
args = [m._bundle.PREDICT, m._arena, m._weights, m._params, 4 * m.input_size, m._y, m._out]
_microtrain.check(*args)
print("ok")
for x in (4 * m.input_size - 1, -1, 1.5):
    args[4] = x
    try:
        _microtrain.check(*args)
    except (ValueError, TypeError) as err:
        print(type(err).__name__, err)
""").splitlines()
    assert out[0] == "ok"
    assert out[1].startswith("ValueError training program op") and "too small" in out[1], out
    assert out[2] == "ValueError region size must be >= 0"
    assert out[3].startswith("TypeError")
