# SPDX-License-Identifier: MIT
# Power cuts at every point of a state save, over a simulated filesystem mounted with os.mount,
# so the store module runs unchanged (its open, os.remove, os.rename go through the VFS).
#
# argv: store module name (imported from sys.path: the device's state.py, or a fixture), the
# rename semantics ("fat": rename over a file removes the destination first, as MicroPython's
# FAT driver does, then renames, a cut possible in between; "littlefs": rename over is atomic),
# the number of parameter bytes, and "deep" to cut a second save after each recovered cut.
#
# A cut can land before any step: each byte written, each open (truncate), remove, rename step,
# and each os.sync(). What reached flash at the cut, two models:
#   through  every step done before the cut reached flash (bytes included);
#   cached   file data reached flash only at os.sync(); opens, removes and renames reached it
#            at once (the worst case of a write cache in the block device).
# After a cut, load must give the old state or the new one (the new one once save returned),
# and a refused load leaves the parameters as they were. Prints one line per loss (the first
# few) and "cases <n> lost <m>".
import os
import sys


class PowerCut(BaseException):
    pass


class Sim:
    """The files (name -> [live bytearray, bytes that reached flash]) and the step counter."""

    def __init__(self, rename, files=None):
        self.rename_kind = rename
        self.files = files or {}
        self.steps = 0
        self.cut_at = -1  # no cut

    def step(self):
        if self.steps == self.cut_at:
            raise PowerCut()
        self.steps += 1

    def sync(self):
        self.step()
        for entry in self.files.values():
            entry[1] = bytes(entry[0])

    def after_cut(self, model):
        kept = {}
        for name, (live, flashed) in self.files.items():
            data = bytes(live) if model == "through" else flashed
            kept[name] = [bytearray(data), data]
        return kept


class SimFile:
    def __init__(self, sim, entry, writing):
        self.sim, self.entry, self.writing, self.pos = sim, entry, writing, 0

    def write(self, data):
        for byte in bytes(data):
            self.sim.step()
            self.entry[0].append(byte)
        return len(data)

    def readinto(self, buf):
        data = self.entry[0]
        n = min(len(buf), len(data) - self.pos)
        buf[:n] = data[self.pos:self.pos + n]
        self.pos += n
        return n

    def read(self, n=-1):
        data = self.entry[0]
        end = len(data) if n is None or n < 0 else min(len(data), self.pos + n)
        out = bytes(data[self.pos:end])
        self.pos = end
        return out

    def seek(self, offset, whence=0):
        self.pos = offset + (len(self.entry[0]) if whence == 2 else 0)
        return self.pos

    def flush(self):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SimVfs:
    def __init__(self, sim):
        self.sim = sim

    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        pass

    def chdir(self, path):
        pass

    def getcwd(self):
        return ""

    def ilistdir(self, path):
        return iter([(name, 0x8000, 0, len(e[0])) for name, e in self.sim.files.items()])

    def stat(self, path):
        entry = self.sim.files.get(path.lstrip("/"))
        if entry is None:
            raise OSError(2)
        return (0x8000, 0, 0, 0, 0, 0, len(entry[0]), 0, 0, 0)

    def open(self, path, mode):
        name = path.lstrip("/")
        if "w" in mode:
            self.sim.step()
            self.sim.files[name] = [bytearray(), b""]  # the truncate reaches flash at once
            return SimFile(self.sim, self.sim.files[name], True)
        if name not in self.sim.files:
            raise OSError(2)
        return SimFile(self.sim, self.sim.files[name], False)

    def remove(self, path):
        name = path.lstrip("/")
        if name not in self.sim.files:
            raise OSError(2)
        self.sim.step()
        del self.sim.files[name]

    def rename(self, old, new):
        old, new = old.lstrip("/"), new.lstrip("/")
        if old not in self.sim.files:
            raise OSError(2)
        if new in self.sim.files and self.sim.rename_kind == "fat":
            self.remove(new)
        self.sim.step()
        self.sim.files[new] = self.sim.files.pop(old)


class SimOs:
    """The store's `os`: the real one (mounted VFS) plus a sync() that reaches the sim."""

    def __init__(self, sim):
        self.sim = sim
        self.remove, self.rename, self.stat = os.remove, os.rename, os.stat

    def sync(self):
        self.sim.sync()


store = __import__(sys.argv[1])
RENAME, N_PARAMS, DEEP = sys.argv[2], int(sys.argv[3]), "deep" in sys.argv[4:]
MODEL_ID = 0x1234567
PATH = "/sim/m.state"
SENTINEL = bytes([0xEE]) * N_PARAMS
CHANGED = "params changed on refusal"


def state_bytes(k):
    return bytes((k * 37 + i * 11) % 256 for i in range(N_PARAMS))


def use(files):
    sim = Sim(RENAME, files)
    try:
        os.umount("/sim")
    except OSError:
        pass
    os.mount(SimVfs(sim), "/sim")
    store.os = SimOs(sim)
    return sim


def load(files):
    """What load gives on these files: the state's bytes, or None if it refused."""
    use(files)
    params = bytearray(SENTINEL)
    try:
        store.load_into(PATH, MODEL_ID, params)
    except (ValueError, OSError):
        if params != SENTINEL:
            return CHANGED
        return None
    return bytes(params)


def save(files, k, cut_at=-1):
    """Save state k over files, cut at step cut_at. Returns (the files, finished?)."""
    sim = use(files)
    sim.cut_at = cut_at
    try:
        store.save(PATH, MODEL_ID, bytearray(state_bytes(k)))
    except PowerCut:
        return sim, False
    return sim, True


def copy(files):
    return {name: [bytearray(e[0]), e[1]] for name, e in files.items()}


cases = 0
losses = 0


def name(got):
    if got is None or got is CHANGED:
        return got or "refused"
    for k in range(8):
        if got == state_bytes(k):
            return "state %d" % k
    return "garbage"


def judge(what, got, allowed):
    global cases, losses
    cases += 1
    if got is CHANGED or got not in allowed:
        losses += 1
        if losses <= 5:
            print("lost:", what, "gave", name(got), "not", " or ".join(name(a) for a in allowed))


def cut_every_step(files, k, before, what, depth):
    """Save state k over files (load gives `before`) with a cut at each step, in each model."""
    sim, _ = save(copy(files), k)
    total = sim.steps
    for cut in range(total + 1):
        sim, done = save(copy(files), k, cut)
        for model in ("through", "cached"):
            after = sim.after_cut(model)
            got = load(copy(after))
            allowed = [state_bytes(k)] if done else [before, state_bytes(k)]
            label = "%s save %d cut at step %d of %d (%s)" % (what, k, cut, total, model)
            judge(label, got, allowed)
            if depth and got is not None:
                cut_every_step(after, k + 1, got, label + " then", depth - 1)


# History: nothing saved yet; one save; two saves; a file in the store's old layout.
empty = {}
cut_every_step(empty, 1, None, "first", 0)
one, _ = save({}, 1)
cut_every_step(one.files, 2, state_bytes(1), "second", 1 if DEEP else 0)
two, _ = save(copy(one.files), 2)
three, _ = save(copy(two.files), 3)
cut_every_step(three.files, 4, state_bytes(3), "fourth", 1 if DEEP else 0)
old_store = __import__("state_rename_store")
use({})
old_store.os = SimOs(Sim(RENAME))
old_store.save(PATH, MODEL_ID, bytearray(state_bytes(1)))
legacy = {name: [e[0], bytes(e[0])] for name, e in store.os.sim.files.items()}
cut_every_step(legacy, 2, state_bytes(1), "over a version-1 file", 0)
print("cases", cases, "lost", losses)
