# SPDX-License-Identifier: MIT
"""Frozen weights in flash: `microtrain pack --romfs` writes a ROMFS image whose weights are
aligned; the unix port mounts it at /rom (vfs.VfsRom over the image's bytes, as a board maps its
partition) and learns from it equal to the host, the weights read in place; `microtrain deploy
--romfs` writes it through the firmware's vfs.rom_ioctl (a stand-in partition on the pty board).
"""

import sys
from pathlib import Path

import pytest
from microtrain_tools import cli
from microtrain_tools.compiler import compile_model
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.formats.int8_graph import save_graph
from microtrain_tools.device.micropython_runner import run_script
from microtrain_tools.policy.definition import save_policy
from microtrain_tools.bundle.romfs import ALIGN, ROMFS_IMAGE, build_image, read_image
from microtrain_tools.device.deploy import deploy_romfs
from microtrain_tools.device.link import connect
from pty_board import PtyBoard
from test_end_to_end import host_trace, write_samples

ROOT = Path(__file__).resolve().parent.parent
N_STEPS = 6

# Mount romfs.img at /rom from a bytearray (its data is heap-block aligned, like a flash
# partition), then run the model from there with nothing of it in the working folder.
MOUNT = """
import sys, vfs
IMAGE = bytearray(open(IMAGE_PATH, "rb").read())
vfs.mount(vfs.VfsRom(IMAGE), "/rom")
sys.path.insert(0, "/rom")
"""

LEARN = """
import binascii, uctypes
from array import array
import microtrain
m = microtrain.load("digits")
print("weights_at", uctypes.addressof(m._weights) - uctypes.addressof(IMAGE),
      type(m._weights).__name__, m.memory()["weights"])
with open("samples.bin", "rb") as f:
    data = f.read()
step = 4 * m.input_size + 4
for off in range(0, len(data), step):
    x = array("f", data[off:off + 4 * m.input_size])
    y = int.from_bytes(data[off + 4 * m.input_size:off + step], "little")
    p = m.predict(x)
    print("predict", p, binascii.hexlify(bytes(m._out)).decode())
    m.learn(x, y)
    print("learn", binascii.hexlify(bytes(m._out)).decode())
print("params", binascii.hexlify(bytes(m._params)).decode())
"""


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """The digits demo's int8 graph and policy (examples/demo), written as .mtg and .json."""
    sys.path.insert(0, str(ROOT / "examples" / "demo"))
    try:
        import demo_model
    finally:
        sys.path.pop(0)
    graph, _ = demo_model.quantized_graph()
    policy = demo_model.demo_policy(graph)
    (xtr, ytr), _ = demo_model.data()
    folder = tmp_path_factory.mktemp("digits")
    save_graph(graph, folder / "digits.mtg")
    save_policy(policy, folder / "policy.json")
    return graph, policy, folder, (xtr[:N_STEPS], ytr[:N_STEPS])


@pytest.fixture(scope="module")
def packed(digits):
    """`microtrain pack --romfs` of the digits model for the unix board."""
    graph, policy, folder, _ = digits
    dist = folder / "dist"
    cli.main(["pack", str(folder / "digits.mtg"), "--policy", str(folder / "policy.json"),
              "--board", "unix", "--name", "digits", "--romfs", "-o", str(dist)])
    return compile_model(graph, policy), dist


def packed_files(dist):
    return sorted(p.relative_to(dist).as_posix() for p in dist.rglob("*")
                  if p.is_file() and p.name != ROMFS_IMAGE)


def test_image_holds_every_packed_file_with_the_weights_aligned(packed):
    _, dist = packed
    image = (dist / ROMFS_IMAGE).read_bytes()
    files = {f.path: f for f in read_image(image)}
    assert sorted(files) == packed_files(dist)
    assert "digits.weights" in files and "microtrain/manifest.bin" in files
    for path, f in files.items():
        assert image[f.offset:f.offset + f.size] == (dist / path).read_bytes(), path
    assert files["digits.weights"].offset % ALIGN == 0


@pytest.mark.parametrize("before", [0, 1, 2, 3, 100, 125, 126, 127, 128, 16_250, 16_383])
def test_weights_are_aligned_whatever_the_sizes_around_them(tmp_path, before):
    """The header's length depends on the image's length (varuint, odd-length fix-up), and the
    weights' offset on what precedes them: each combination still lands on ALIGN."""
    for size in (1, 2, 13, 127, 128, 129, 16_384):
        (tmp_path / "a.mpy").write_bytes(bytes([7]) * before)
        (tmp_path / "m.weights").write_bytes(bytes(range(256)) * (size // 256) +
                                             bytes(size % 256))
        (tmp_path / "z.weights").write_bytes(b"\x01" * (size + 3))
        image = build_image(tmp_path, [Path("a.mpy"), Path("m.weights"), Path("z.weights")])
        files = {f.path: f for f in read_image(image)}
        for name in ("m.weights", "z.weights"):
            f = files[name]
            assert f.offset % ALIGN == 0, (before, size, name, f.offset)
            assert image[f.offset:f.offset + f.size] == (tmp_path / name).read_bytes()


def test_reader_refuses_a_damaged_image():
    with pytest.raises(MicrotrainError, match="not a ROMFS image"):
        read_image(b"\x00\x01\x02")
    with pytest.raises(MicrotrainError, match="runs past"):
        read_image(b"\xd2\xcd\x31\x7f\x05")


def run_from_image(micropython, image_path, cwd, samples):
    write_samples(cwd / "samples.bin", *samples)
    script = cwd / "run.py"
    script.write_text(f"IMAGE_PATH = {str(image_path)!r}\n" + MOUNT + LEARN)
    return run_script(script, cwd=cwd, micropython=micropython)


def test_unix_port_learns_from_the_mounted_image_as_the_host(packed, digits, micropython,
                                                             tmp_path):
    compiled, dist = packed
    image = dist / ROMFS_IMAGE
    lines = run_from_image(micropython, image, tmp_path, digits[3]).check().stdout.splitlines()
    weights = {f.path: f for f in read_image(image.read_bytes())}["digits.weights"]
    # The weights are the image's own bytes (a memoryview into the mounted image), not a copy.
    assert lines[0] == f"weights_at {weights.offset} memoryview 0", lines[0]
    _, expected = host_trace(compiled, *digits[3])
    assert lines[1:] == expected, "device (weights from ROMFS) and host simulation differ"


def test_misaligned_weights_are_refused_by_the_executor(packed, digits, micropython, tmp_path):
    """Why the image aligns them: mpremote's writer alone can put the weights at any even
    offset, and the executor refuses int32 tables there."""
    from mpremote.romfs import VfsRomWriter

    _, dist = packed
    for pad in range(8):
        writer = VfsRomWriter()
        writer.mkfile("pad", bytes(pad))
        for rel in packed_files(dist):
            if "/" not in rel:
                writer.mkfile(rel, (dist / rel).read_bytes())
        writer.opendir("microtrain")
        for rel in packed_files(dist):
            if rel.startswith("microtrain/"):
                writer.mkfile(rel.split("/")[1], (dist / rel).read_bytes())
        writer.closedir()
        image = writer.finalise()
        weights = {f.path: f for f in read_image(image)}["digits.weights"]
        if weights.offset % 4:
            break
    (tmp_path / "plain.img").write_bytes(image)
    result = run_from_image(micropython, tmp_path / "plain.img", tmp_path, digits[3])
    assert not result.ok
    assert "not aligned to its element size" in result.stderr + result.stdout


# -- deploy --romfs ----------------------------------------------------------------------------

# A ROMFS partition for the unix port: vfs.rom_ioctl over a bytearray, put in sys.modules (where
# `import vfs` looks first) so the deploy code talks to it as to a board's firmware.
FAKE_PARTITION = """
import sys, vfs as _real
class _Vfs:
    VfsRom = _real.VfsRom
    mount = staticmethod(_real.mount)
    umount = staticmethod(_real.umount)
    part = bytearray(b"\\xff" * SIZE)
    log = []
    @staticmethod
    def rom_ioctl(op, *args):
        _Vfs.log.append(op)
        p = _Vfs.part
        if args and args[0] != 0:
            return -19  # ENODEV: one partition only
        if op == 2:
            return memoryview(p)
        if op == 6:
            return 4096
        if op == 3:
            for i in range(args[1]):
                p[i] = 0xFF
            return 16
        if op == 4:
            p[args[1]:args[1] + len(args[2])] = args[2]
            return 0
        if op == 5:
            return 0
        return -22
sys.modules["vfs"] = _Vfs
"""


def test_deploy_romfs_writes_the_partition_and_the_model_runs_from_rom(packed, digits,
                                                                       micropython, tmp_path):
    compiled, dist = packed
    image = (dist / ROMFS_IMAGE).read_bytes()
    flash = tmp_path / "flash"
    flash.mkdir()
    with PtyBoard(micropython, flash) as board:
        repl = connect(board.port, timeout=5)
        try:
            with pytest.raises(MicrotrainError, match="has no ROMFS"):
                deploy_romfs(repl, image, log=lambda *a: None)
            repl.exec(FAKE_PARTITION.replace("SIZE", str(len(image) + 5000)))
            with pytest.raises(MicrotrainError, match="no ROMFS partition 1"):
                deploy_romfs(repl, image, partition=1, log=lambda *a: None)
            with pytest.raises(MicrotrainError, match="not a ROMFS image"):
                deploy_romfs(repl, b"\x00" + image[1:], log=lambda *a: None)
            deploy_romfs(repl, image, log=lambda *a: None)
            assert repl.eval("bytes(_Vfs.part[:%d])" % len(image)) == image
            x, y = digits[3]
            repl.exec("import sys\nsys.path.insert(0, '/rom')\nimport microtrain\n"
                      "from array import array\nm = microtrain.load('digits')")
            got = repl.eval("m.predict(array('f', %r))" % [float(v) for v in x[0].ravel()])
        finally:
            repl.close()
    assert not list(flash.iterdir()), "deploy --romfs must not write files"
    _, expected = host_trace(compiled, x[:1], y[:1])
    assert expected[0].startswith(f"predict {got} ")


def test_mem_reports_the_heap_beside_the_plan(packed, digits, capsys):
    from microtrain_tools.bundle.pack import native_code_size

    _, dist = packed
    folder = digits[2]
    cli.main(["mem", str(folder / "digits.mtg"), "--policy", str(folder / "policy.json"),
              "--no-compare", "--native", str(dist / "_microtrain.mpy")])
    out = capsys.readouterr().out
    weights = (dist / "digits.weights").stat().st_size
    assert f"  weights      {weights:>10,}" in out
    assert f"  native_code  {native_code_size(dist / '_microtrain.mpy'):>10,}" in out
    assert "  bundle  " in out
