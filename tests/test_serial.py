# SPDX-License-Identifier: MIT
"""The serial side of the user's path, for real: the device link (mpremote's serial transport,
device_link.py) talks to the unix port of MicroPython behind a pseudo-terminal (tests/pty_board.py), whose working folder is
a tmp folder standing in for the board's flash, so every file the client writes can also be
checked on disk."""

import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from microtrain_tools import cli
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.device.deploy import deploy_folder
from microtrain_tools.sim.curves import read_curve
from microtrain_tools.device.learn import learn_on_board
from microtrain_tools.device.link import PART_SUFFIX, DeviceError, TransportTimeout, connect
from pty_board import PtyBoard



@pytest.fixture
def flash(tmp_path) -> Path:
    """The board's working folder (its 'flash')."""
    path = tmp_path / "flash"
    path.mkdir()
    return path


@pytest.fixture
def board(micropython, flash):
    with PtyBoard(micropython, flash) as b:
        yield b


@pytest.fixture(params=[None, False], ids=["raw-paste", "plain-raw"])
def repl(request, board):
    r = connect(board.port, raw_paste=request.param, timeout=5)
    yield r
    r.close()


# -- running code ------------------------------------------------------------------------------


def test_exec_returns_stdout_in_both_modes(repl):
    assert repl.exec("print(6 * 7)") == "42\n"
    # Longer than the raw-paste window (128 bytes on the unix port): flow control is exercised.
    body = "".join(f"    t += {i}  # padding to make the code long\n" for i in range(60))
    out = repl.exec(f"def f():\n    t = 0\n{body}    return t\nprint(f())\nprint('x' * 3)")
    assert out == f"{sum(range(60))}\nxxx\n"
    assert repl.eval("{'a': [1, 2.5], 'b': b'\\x00'}") == {"a": [1, 2.5], "b": b"\x00"}


def test_unix_port_supports_raw_paste(board):
    with connect(board.port) as r:
        pasted, paste = [], r.transport.raw_paste_write
        r.transport.raw_paste_write = lambda code: (pasted.append(code), paste(code))[1]
        assert r.exec("print('pasted')") == "pasted\n"
        assert pasted == [b"print('pasted')"], "the unix port offers raw-paste mode; not used"


def test_device_exception_gives_traceback(repl):
    with pytest.raises(DeviceError) as info:
        repl.exec("def f(n):\n    raise ValueError('bad sample %d' % n)\nf(7)")
    message = str(info.value)
    assert "ValueError: bad sample 7" in message
    assert "Traceback (most recent call last)" in info.value.traceback
    assert 'line 2, in f' in info.value.traceback
    assert repl.exec("print('still alive')") == "still alive\n"


def test_syntax_error_is_reported(repl):
    with pytest.raises(DeviceError, match="SyntaxError"):
        repl.exec("def broken(:\n    pass\n" + "# filler\n" * 40)
    assert repl.exec("print(1)") == "1\n"


# -- files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 5, 200_000], ids=["empty", "small", "200KB"])
def test_put_and_get_identical(repl, flash, size):
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    result = repl.put_file(data, "blob.bin")
    assert result.size == size and result.crc_checked
    assert (flash / "blob.bin").read_bytes() == data
    assert repl.get_file("blob.bin") == data
    assert not (flash / ("blob.bin" + PART_SUFFIX)).exists()


def test_put_replaces_an_existing_file(repl, flash):
    repl.put_file(b"old contents, longer than the new", "f.txt")
    repl.put_file(b"new", "f.txt")
    assert (flash / "f.txt").read_bytes() == b"new"


def test_interrupted_put_never_leaves_a_half_file(repl, flash):
    (flash / "model.mpy").write_bytes(b"the old model")

    class Unplugged(Exception):
        pass

    def unplug_after_first_chunk(sent, total):
        raise Unplugged

    with pytest.raises(Unplugged):
        repl.put_file(os.urandom(10_000), "model.mpy", chunk_size=1000,
                      progress=unplug_after_first_chunk)
    assert (flash / "model.mpy").read_bytes() == b"the old model"
    assert sorted(p.name for p in flash.iterdir()) == ["model.mpy"]


def test_put_cut_mid_exchange_keeps_the_old_file(repl, flash, monkeypatch):
    # The host is stopped (Ctrl-C on the host) while the board is still answering: the cleanup
    # must get back in step with the board before it removes the temp file.
    (flash / "model.mpy").write_bytes(b"the old model")
    port, sent = repl.transport.serial, []
    real_read = port.read

    def flaky_read(n):
        if len(sent) == 2:  # two chunks written: stop while reading the third one's answer
            sent.append("stopped")
            raise KeyboardInterrupt
        return real_read(n)

    monkeypatch.setattr(port, "read", flaky_read)
    with pytest.raises(KeyboardInterrupt):
        repl.put_file(os.urandom(20_000), "model.mpy", chunk_size=1000,
                      progress=lambda done, total: sent.append(done))
    monkeypatch.setattr(port, "read", real_read)
    assert sent == [1000, 2000, "stopped"]
    assert (flash / "model.mpy").read_bytes() == b"the old model"
    assert sorted(p.name for p in flash.iterdir()) == ["model.mpy"]
    assert repl.exec("print('in step')") == "in step\n"


def test_mkdir_and_list_files(repl, flash):
    repl.mkdir("lib/microtrain")
    repl.mkdir("lib/microtrain")  # existing folders are fine
    repl.put_file(b"abc", "lib/microtrain/a.mpy")
    repl.put_file(b"", "top.bin")
    assert repl.list_files() == {"lib/microtrain/a.mpy": 3, "top.bin": 0}
    assert repl.list_files("lib") == {"microtrain/a.mpy": 3}
    with pytest.raises(DeviceError, match="EEXIST|17"):
        repl.mkdir("top.bin")  # a file is in the way


@pytest.fixture(scope="module")
def x64_module(built_module) -> bytes:
    return built_module("x64").read_bytes()


def fake_dist(root: Path, module: bytes) -> dict[str, bytes]:
    """A dist/ of random files around a real x64 native module (deploy checks that one)."""
    rng = np.random.default_rng(1)
    files = {
        "model.mpy": rng.integers(0, 256, 30_000, dtype=np.uint8).tobytes(),
        "_microtrain.mpy": module,
        "microtrain/__init__.mpy": b"M\x06\x00\x1f",
        "microtrain/model.mpy": rng.integers(0, 256, 2_500, dtype=np.uint8).tobytes(),
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def test_deploy_folder(repl, flash, tmp_path, x64_module):
    files = fake_dist(tmp_path / "dist", x64_module)
    lines, progress = [], {}
    report = deploy_folder(repl, tmp_path / "dist", log=lines.append,
                           progress=lambda name, sent, total: progress.setdefault(
                               name, []).append((sent, total)))
    for rel, data in files.items():
        assert (flash / rel).read_bytes() == data, rel
        assert progress[rel][-1] == (len(data), len(data)), rel
    assert len(progress["model.mpy"]) == -(-30_000 // 2048)  # one call per chunk
    assert report.size == sum(map(len, files.values()))
    assert len(lines) == len(files) + 2
    assert all("/s" in line for line in lines[1:])  # a rate on every file line and the total


def test_deploy_into_a_target_folder(repl, flash, tmp_path, x64_module):
    files = fake_dist(tmp_path / "dist", x64_module)
    deploy_folder(repl, tmp_path / "dist", target="apps/har", log=lambda _: None)
    for rel, data in files.items():
        assert (flash / "apps" / "har" / rel).read_bytes() == data, rel


def test_get_of_a_missing_file_is_a_board_error(repl):
    with pytest.raises(DeviceError, match="ENOENT|No such file|Errno 2"):
        repl.get_file("nowhere.bin")


def test_deploy_skips_arch_build_outputs(repl, flash, tmp_path, x64_module):
    # `microtrain pack -o dist` leaves the module it built for the arch in dist/<arch>/.
    files = fake_dist(tmp_path / "dist", x64_module)
    (tmp_path / "dist" / "x64").mkdir()
    (tmp_path / "dist" / "x64" / "_microtrain.mpy").write_bytes(b"built module")
    lines = []
    deploy_folder(repl, tmp_path / "dist", log=lines.append)
    assert repl.list_files() == {rel: len(data) for rel, data in files.items()}
    assert any("skipped x64/" in line for line in lines)


def test_deploy_command(board, flash, tmp_path, capsys, x64_module):
    files = fake_dist(tmp_path / "dist", x64_module)
    cli.main(["deploy", "--port", board.port, str(tmp_path / "dist")])
    out = capsys.readouterr().out
    for rel, data in files.items():
        assert (flash / rel).read_bytes() == data, rel
        assert rel in out
    assert "verified 4 file sizes" in out


def test_deploy_refuses_a_module_of_another_arch_or_a_cut_one(repl, flash, tmp_path,
                                                             built_module, x64_module):
    fake_dist(tmp_path / "dist", built_module("armv7m").read_bytes())
    with pytest.raises(MicrotrainError, match="built for armv7m but the board runs x64"):
        deploy_folder(repl, tmp_path / "dist", log=lambda _: None)
    fake_dist(tmp_path / "dist", x64_module[: len(x64_module) // 2])
    with pytest.raises(MicrotrainError, match="_microtrain.mpy is damaged"):
        deploy_folder(repl, tmp_path / "dist", log=lambda _: None)
    assert not (flash / "_microtrain.mpy").exists(), "nothing is copied before the check"


def test_deploy_refuses_an_empty_or_missing_folder(repl, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(MicrotrainError, match="empty folder"):
        deploy_folder(repl, tmp_path / "empty", log=lambda _: None)
    with pytest.raises(MicrotrainError, match="not a folder"):
        deploy_folder(repl, tmp_path / "nowhere", log=lambda _: None)


# -- a board that hangs, freezes or goes away --------------------------------------------------


def test_hung_program_times_out_and_is_interrupted(board):
    # Plain raw mode: the unix port runs the code with SIGINT enabled, so Ctrl-C recovers it.
    with connect(board.port, raw_paste=False, timeout=5) as r:
        start = time.monotonic()
        with pytest.raises(TransportTimeout) as info:
            r.exec("while True:\n    pass", timeout=0.5)
        assert time.monotonic() - start < 5
        message = str(info.value)
        assert board.port in message and "running: 'while True:'" in message, message
        assert "0.5 s" in message and "end of the program's output" in message
        assert "interrupted (Ctrl-C)" in message
        assert r.exec("print('back')") == "back\n"


def test_hung_program_that_ignores_ctrl_c(board):
    # In raw-paste mode the unix port leaves its terminal raw while running, so Ctrl-C is a
    # plain byte and cannot stop the loop: the client must say so and refuse further use.
    with connect(board.port, timeout=5) as r:
        start = time.monotonic()
        with pytest.raises(TransportTimeout, match="did not answer Ctrl-C"):
            r.exec("while True:\n    pass", timeout=0.5)
        assert time.monotonic() - start < 10
        with pytest.raises(MicrotrainError, match="connection unusable"):
            r.exec("print(1)")


def test_connect_stops_a_program_that_keeps_printing(board):
    # Like a board whose main.py streams sensor readings when the host connects.
    with connect(board.port, raw_paste=False, timeout=5) as r:
        r.transport.exec_raw_no_follow("import time\nwhile True:\n"
                                       "    print('reading', time.ticks_ms())\n"
                                       "    time.sleep_ms(1)\n")
    time.sleep(0.2)
    with connect(board.port, timeout=3) as r:
        assert r.exec("print('quiet now')") == "quiet now\n"


def test_frozen_board_gives_a_clear_timeout(board):
    board.stop()
    start = time.monotonic()
    with pytest.raises(TransportTimeout, match="0.5 s while waiting for the raw REPL banner"):
        connect(board.port, timeout=0.5)
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("raw_paste, awaited", [
    (False, "the board to take the bytes sent to it"),  # no flow control: a bounded write
    (None, "the raw REPL banner or prompt"),  # no answer to the raw-paste request
], ids=["plain-raw", "raw-paste"])
def test_board_that_stops_reading_gives_a_timeout(board, raw_paste, awaited):
    with connect(board.port, raw_paste=raw_paste, timeout=5) as r:
        board.stop()
        start = time.monotonic()
        with pytest.raises(TransportTimeout, match=f"1 s while waiting for {awaited}"):
            r.exec("x = 1\n" * 400_000, timeout=1.0)  # more than all the buffers on the way
        # A hang guard: mpremote writes plain raw code 256 bytes per 10 ms, so filling the
        # buffers on the way takes several seconds before the write can time out.
        assert time.monotonic() - start < 30


@pytest.mark.parametrize("raw_paste", [None, False], ids=["raw-paste", "plain-raw"])
def test_board_that_dies_mid_transfer(board, flash, raw_paste):
    # The board is reset or unplugged while a file is being written: a clear error naming the
    # port and the command, not a hang, and the old file is still the real one.
    (flash / "model.mpy").write_bytes(b"the old model")
    with connect(board.port, raw_paste=raw_paste, timeout=5) as r:
        start = time.monotonic()
        with pytest.raises(TransportTimeout) as info:
            r.put_file(os.urandom(20_000), "model.mpy", chunk_size=1000, timeout=1.0,
                       progress=lambda sent, total: sent == 3000 and board.proc.kill())
        # A hang guard, not a speed test: 1 s per wait and a 2 s Ctrl-C, not mpremote's 10 s.
        assert time.monotonic() - start < 9
        message = str(info.value)
        assert board.port in message and "running: \"_mt_w(b'" in message, message
        assert "no answer within 1 s" in message, message
        with pytest.raises(MicrotrainError, match="connection unusable"):
            r.exec("print(1)")
    assert (flash / "model.mpy").read_bytes() == b"the old model"


def test_soft_reset_of_the_unix_port_ends_it(board):
    # A board restarts and shows the raw REPL again; the unix port exits instead.
    with connect(board.port, timeout=5) as r, pytest.raises(
            TransportTimeout, match="did not come back after the soft reset"):
        r.soft_reset(timeout=1.0)
    assert board.proc.wait(timeout=5) == 0


def test_missing_port_is_a_clear_error(tmp_path):
    with pytest.raises(MicrotrainError, match="cannot open serial port"):
        connect(str(tmp_path / "ttyNOPE"))


# -- learning ----------------------------------------------------------------------------------

# A stand-in for the device package with the same API as python/microtrain (load, predict,
# learn, evaluate, save, load_state, memory): softmax regression in plain Python floats. It lets
# these tests check the streaming number for number against the same maths on the host;
# test_real_packed_model_deploys_and_learns below runs the real package and native module.
FAKE_MICROTRAIN = '''
import math

class Model:
    def __init__(self, bundle):
        self.name = bundle.NAME
        self.input_size = bundle.INPUT_SIZE
        self.n_outputs = bundle.N_OUTPUTS
        self.lr = bundle.LR
        self.w = [[0.0] * self.input_size for _ in range(self.n_outputs)]
        self.b = [0.0] * self.n_outputs

    def _logits(self, x):
        return [self.b[k] + sum(self.w[k][i] * x[i] for i in range(self.input_size))
                for k in range(self.n_outputs)]

    def predict(self, x):
        z = self._logits(x)
        return z.index(max(z))

    def learn(self, x, y):
        z = self._logits(x)
        m = max(z)
        e = [math.exp(v - m) for v in z]
        s = sum(e)
        for k in range(self.n_outputs):
            g = e[k] / s - (1.0 if k == y else 0.0)
            self.b[k] -= self.lr * g
            for i in range(self.input_size):
                self.w[k][i] -= self.lr * g * x[i]
        return math.log(s) + m - z[y]

    def evaluate(self, xs, ys):
        return sum(self.predict(x) == y for x, y in zip(xs, ys)) / len(xs)

    def memory(self):
        return {"params": 8 * self.n_outputs * (self.input_size + 1)}

    def save(self, path=None):
        with open(path or self.name + ".state", "w") as f:
            f.write(repr((self.w, self.b)))

    def load_state(self, path=None):
        with open(path or self.name + ".state") as f:
            self.w, self.b = eval(f.read())

def load(name, state_path=None):
    m = Model(__import__(name))
    if state_path:
        m.load_state(state_path)
    return m
'''


def host_softmax_regression(x, y, order, lr, n_out):
    """The fake package's maths in CPython floats, same operation order: losses and weights."""
    d = x.shape[1]
    w, b = [[0.0] * d for _ in range(n_out)], [0.0] * n_out
    losses = []
    for i in order:
        xi = [float(v) for v in x[i]]
        z = [b[k] + sum(w[k][j] * xi[j] for j in range(d)) for k in range(n_out)]
        m = max(z)
        e = [math.exp(v - m) for v in z]
        s = sum(e)
        for k in range(n_out):
            g = e[k] / s - (1.0 if k == y[i] else 0.0)
            b[k] -= lr * g
            for j in range(d):
                w[k][j] -= lr * g * xi[j]
        losses.append(math.log(s) + m - z[y[i]])
    return losses


def blobs(n, seed):
    rng = np.random.default_rng(seed)
    centers = np.array([[2, 0, 0, 1], [0, 2, 0, -1], [0, 0, 2, 0]], np.float32)
    y = rng.integers(0, 3, n)
    x = (centers[y] + rng.normal(0, 0.6, (n, 4))).astype(np.float32)
    return x.reshape(n, 2, 2), y  # 2-D samples: the client flattens them


@pytest.fixture
def toy_board(flash, board):
    (flash / "microtrain").mkdir()
    (flash / "microtrain" / "__init__.py").write_text(FAKE_MICROTRAIN)
    (flash / "toy.py").write_text("NAME = 'toy'\nINPUT_SIZE = 4\nN_OUTPUTS = 3\nLR = 0.1\n")
    return board


def test_learn_streams_samples_exactly(toy_board, flash):
    x, y = blobs(45, seed=3)
    ex, ey = blobs(30, seed=4)
    with connect(toy_board.port, timeout=5) as r:
        report = learn_on_board(r, "toy", ("new.npz", x, y), epochs=2,
                                eval_data=("test.npz", ex, ey), save=True, shuffle_seed=5,
                                log=lambda _: None)
    rng = np.random.default_rng(5)
    order = np.concatenate([rng.permutation(45), rng.permutation(45)])
    expected = host_softmax_regression(x.reshape(45, 4), y, order, 0.1, 3)
    got = report.epochs[0].losses + report.epochs[1].losses
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-12), "losses differ from the host"
    assert report.accuracy_before == pytest.approx(np.mean(ey == 0))  # all-zero weights: 0
    assert report.accuracy_after >= 0.9 > report.accuracy_before
    assert report.epochs[1].mean_loss < report.epochs[0].mean_loss
    assert report.memory == {"params": 8 * 3 * 5}
    assert (flash / "toy.state").exists()


def test_learn_command(toy_board, flash, tmp_path, capsys):
    x, y = blobs(30, seed=6)
    np.savez(tmp_path / "new.npz", x=x, y=y)
    cli.main(["learn", "--port", toy_board.port, "--model", "toy", "--data",
              str(tmp_path / "new.npz"), "--epochs", "2", "--save"])
    out = capsys.readouterr().out
    assert "before: accuracy" in out and "after: accuracy" in out
    assert "epoch 2: mean loss" in out and "saved the learned state" in out
    saved = (flash / "toy.state").read_text()
    # --resume starts from the saved state: its first predictions are already good.
    cli.main(["learn", "--port", toy_board.port, "--model", "toy", "--data",
              str(tmp_path / "new.npz"), "--resume", "--no-shuffle"])
    before = next(line for line in capsys.readouterr().out.splitlines() if "before:" in line)
    assert float(before.split("accuracy ")[1].split("%")[0]) >= 90
    assert (flash / "toy.state").read_text() == saved  # no --save: unchanged


def test_learn_command_writes_the_learning_curve(toy_board, tmp_path, capsys):
    """--curve: a CSV whose epoch rows are the printed epoch means and whose step windows
    average to them, held-out accuracy before and after, and a PNG beside it."""
    x, y = blobs(40, seed=7)
    np.savez(tmp_path / "new.npz", x=x, y=y)
    curve_csv = tmp_path / "out" / "curve.csv"
    cli.main(["learn", "--port", toy_board.port, "--model", "toy", "--data",
              str(tmp_path / "new.npz"), "--epochs", "2", "--curve", str(curve_csv),
              "--curve-every", "10"])
    out = capsys.readouterr().out
    curve = read_curve(curve_csv)
    epochs = curve.of("epoch")
    assert [(r.epoch, r.step) for r in epochs] == [(1, 40), (2, 80)]
    for r in epochs:
        assert f"epoch {r.epoch}: mean loss {r.loss:.4f}" in out, out
        windows = [w for w in curve.of("steps") if w.epoch == r.epoch]
        assert [w.step for w in windows] == [40 * (r.epoch - 1) + 10 * k for k in (1, 2, 3, 4)]
        assert np.mean([w.loss for w in windows]) == pytest.approx(r.loss, rel=1e-5)
        assert np.mean([w.accuracy for w in windows]) == pytest.approx(r.accuracy)
    held = curve.of("held_out")
    assert [h.step for h in held] == [0, 80] and held[1].accuracy > held[0].accuracy
    assert f"accuracy {100 * held[1].accuracy:.1f}%" in out
    png = curve_csv.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"wrote {curve_csv}" in out
    with pytest.raises(SystemExit):
        cli.main(["learn", "--port", toy_board.port, "--model", "toy", "--data",
                  str(tmp_path / "new.npz"), "--curve", str(tmp_path / "curve.png")])
    assert "must end in .csv" in capsys.readouterr().err


def test_learn_refuses_samples_of_the_wrong_size(toy_board):
    x = np.zeros((3, 5), np.float32)
    with connect(toy_board.port, timeout=5) as r:
        with pytest.raises(MicrotrainError, match="have 5 values, the model on the board takes 4"):
            learn_on_board(r, "toy", ("bad.npz", x, np.zeros(3)), log=lambda _: None)
        with pytest.raises(MicrotrainError, match="label 7 but the model has 3 outputs"):
            learn_on_board(r, "toy", ("bad.npz", x[:, :4], np.array([0, 7, 1])),
                           log=lambda _: None)


def test_learn_unknown_model_shows_the_board_error(toy_board):
    with connect(toy_board.port, timeout=5) as r, pytest.raises(
            DeviceError, match="ImportError|no module named"):
        learn_on_board(r, "nosuchmodel", ("d.npz", np.zeros((1, 4)), np.zeros(1)),
                       log=lambda _: None)


# -- a real packed model -----------------------------------------------------------------------


def small_policy(graph, loss="softmax_ce"):
    from microtrain_tools.policy.definition import Optimizer, make_policy

    return make_policy(graph, bias_last_n=2, weights=[("head", 1.0, "first_k")],
                       optimizer=Optimizer(lr=0.05), loss=loss)


@pytest.fixture(scope="module")
def one_native_build(tmp_path_factory):
    """The unix board's _microtrain.mpy, built once for this module: pack() rebuilds the
    native module on every call (seconds each), and it is the same for every bundle here."""
    from microtrain_tools.bundle import pack as pack_module
    from microtrain_tools.bundle.boards import load_board

    built = tmp_path_factory.mktemp("natmod") / "_microtrain.mpy"
    shutil.copyfile(pack_module.native_module(load_board("unix"), log=lambda *a: None), built)
    return built


@pytest.fixture
def packer(one_native_build, monkeypatch):
    from microtrain_tools.bundle import pack as pack_module

    monkeypatch.setattr(pack_module, "native_module", lambda board, log=None: one_native_build)
    return pack_module


@pytest.mark.parametrize("input_dtype, loss", [("float32", "softmax_ce"), ("int8", "softmax_ce"),
                                               ("float32", "mse")])
def test_real_packed_model_deploys_and_learns(board, flash, tmp_path, packer, input_dtype, loss):
    from e2e_models import samples, small_graph
    from microtrain_tools.bundle.boards import load_board
    from microtrain_tools.compiler import compile_model
    from microtrain_tools.sim.simulate import HostModel

    graph = small_graph()
    compiled = compile_model(graph, small_policy(graph, loss), input_dtype=input_dtype)
    dist = tmp_path / "dist"
    packer.pack(packer.make_bundle(compiled, "small"), load_board("unix"), dist,
                log=lambda *a: None)
    x, y = samples(10)
    if input_dtype == "int8":
        x = np.round(x * 100).astype(np.int8)
    if loss == "mse":  # one-hot targets: the client sends them as float32 arrays
        y = np.eye(5, dtype=np.float32)[y]
    labels = y.argmax(axis=1) if loss == "mse" else y
    with connect(board.port, timeout=5) as r:
        deploy_folder(r, dist, log=lambda _: None)
        report = learn_on_board(r, "small", ("new", x, y), shuffle_seed=None, save=True,
                                timeout=10, log=lambda _: None)
    for f in dist.rglob("*"):
        if f.is_file():
            assert (flash / f.relative_to(dist)).read_bytes() == f.read_bytes()
    host = HostModel(compiled)
    before = host.evaluate(x, labels)
    losses, hits = [], 0
    for xi, yi, label in zip(x, y, labels):
        hits += host.predict(xi) == label  # the board reads this off learn's own forward pass
        losses.append(host.learn(xi, yi))
    assert np.float32(report.epochs[0].losses).tolist() == np.float32(losses).tolist()
    assert report.epochs[0].accuracy == hits / len(x)
    assert report.accuracy_before == before
    assert report.accuracy_after == host.evaluate(x, labels)
    assert (flash / "small.state.a").stat().st_size == 24 + len(compiled.params)


def test_user_path_pack_deploy_learn_commands(board, flash, tmp_path, packer, capsys):
    # The commands a user types, in order, with a board on a serial port.
    from e2e_models import samples, small_graph
    from microtrain_tools.formats.int8_graph import save_graph
    from microtrain_tools.policy.definition import save_policy

    graph = small_graph()
    save_graph(graph, tmp_path / "small.mtg")
    save_policy(small_policy(graph), tmp_path / "policy.json")
    x, y = samples(12)
    np.savez(tmp_path / "new.npz", x=x, y=y)
    np.savez(tmp_path / "test.npz", x=x[:6], y=y[:6])
    dist = tmp_path / "dist"
    cli.main(["pack", str(tmp_path / "small.mtg"), "--policy", str(tmp_path / "policy.json"),
              "--board", "unix", "--name", "model", "-o", str(dist)])
    cli.main(["deploy", "--port", board.port, str(dist)])
    cli.main(["learn", "--port", board.port, "--model", "model", "--data",
              str(tmp_path / "new.npz"), "--eval", str(tmp_path / "test.npz"), "--save"])
    out = capsys.readouterr().out
    assert "verified" in out and "after: accuracy" in out and "saved the learned state" in out
    assert (flash / "model.mpy").read_bytes() == (dist / "model.mpy").read_bytes()
    assert (flash / "model.state.a").exists()
