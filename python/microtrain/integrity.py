_SELF = None  # the first line: `microtrain pack` writes (size, Adler-32 halves) of the rest
# SPDX-License-Identifier: MIT
# Check the packed files before importing them. MicroPython's .mpy loader does not survive a
# truncated or damaged module (it can crash or hang the interpreter), so `microtrain pack`
# writes microtrain/manifest.bin: the size and checksum of every file load() imports or opens.
#
# Chain of trust: microtrain/__init__.py and this file are imported before anything can be
# checked, so they are the root, shipped as SOURCE (`microtrain pack`): the .mpy loader does not
# verify bytecode, and damaged bytecode can crash the VM, while damaged source is a SyntaxError or
# other valid Python. Put them in ROMFS or freeze them to make the root read-only. This file
# then checks the manifest (magic, version, its own checksum), then every listed file, these two
# included, before load() imports any other. A missing, damaged or foreign manifest is an error
# naming it, never a skip.
#
# manifest.bin, little-endian:
#   b"MTMF" | u8 version | u8 n_files | u16 body_length | u16 adler_a | u16 adler_b | u32 0
#   body: n_files x (u8 name_length | name (ASCII, "/"-separated, from the dist root)
#                    | u32 size | u16 adler_a | u16 adler_b)
# The checksum is state.py's Adler-32, as two 16-bit halves.
import os
import struct
import sys

MANIFEST = "manifest.bin"
MAGIC = b"MTMF"
VERSION = 1
HEADER = "<4sBBHHHI"
HEADER_SIZE = 16
ENTRY = "<IHH"
ENTRY_SIZE = 8
CHUNK = 512  # bytes read at a time: no file is ever read whole
verified = 0  # completed verify() calls: load() checks that its own call got this far
ADLER_MOD = 65521


def _check_self(path, expected):
    # The root checks itself as it is imported, before it checks anything else (nothing can check
    # it first), so source damage that still compiles is refused here instead of running. Each
    # root module carries its own copy: neither can trust the other before this. The sum covers
    # every byte after the first line, read 512 bytes at a time.
    buf = bytearray(512)
    n, a, b, first_line = 0, 1, 0, True
    with open(path, "rb") as f:
        for _ in range(256):  # bounded (128 KB): damage that drops the end test cannot hang
            got = f.readinto(buf)
            for i in range(got):
                byte = buf[i]
                if first_line:
                    first_line = byte != 10
                    continue
                n += 1
                a = (a + byte) % 65521
                b = (b + a) % 65521
    if (n, a, b) != expected:
        raise ValueError("%s is damaged: deploy it again" % path)


if _SELF is not None:
    _check_self(__file__, _SELF)

def adler(a, b, data):
    # One reduction per call: with a, b < 65521 and at most CHUNK bytes, b stays below 2**27,
    # a small int on every port, and the result equals a reduction per byte.
    for byte in data:
        a += byte
        b += a
    return a % ADLER_MOD, b % ADLER_MOD


def _join(folder, name):
    return (folder + "/" + name) if folder else name


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def package_folder():
    """The folder this package was imported from (where manifest.bin must be)."""
    here = globals().get("__file__")
    if here is None:
        raise ValueError("microtrain has no __file__ (frozen?): cannot find " + MANIFEST)
    cut = here.rfind("/")
    return here[:cut] if cut >= 0 else ""


def find_module(filename):
    """Where `import` will take the top-level module file (e.g. model.mpy) from: the first
    folder of sys.path that has it, as long as no model.py comes before it."""
    source = filename[:-4] + ".py" if filename.endswith(".mpy") else None
    for folder in sys.path:
        if source is not None and _exists(_join(folder, source)):
            raise ValueError("%s would be imported instead of the packed %s: remove it"
                             % (_join(folder, source), filename))
        path = _join(folder, filename)
        if _exists(path):
            return path
    return None


def _read_exact(f, n, what):
    data = f.read(n)
    if data is None or len(data) != n:
        raise ValueError(what)
    return data


def read_manifest(path):
    """{name: (size, adler_a, adler_b)} from manifest.bin; ValueError naming it if it is not
    a whole manifest of this version."""
    try:
        f = open(path, "rb")
    except OSError:
        raise ValueError("%s is missing: deploy the whole dist folder" % path)
    with f:
        bad = "%s is damaged or not a microtrain manifest (deploy it again)" % path
        magic, version, count, length, a, b, zero = struct.unpack(
            HEADER, _read_exact(f, HEADER_SIZE, bad))
        if magic != MAGIC or zero != 0:
            raise ValueError(bad)
        if version != VERSION:
            raise ValueError("%s has version %d, this package reads %d" % (path, version, VERSION))
        body = _read_exact(f, length, bad)  # at most 64 KB by its u16 length; a few hundred
        if f.read(1):
            raise ValueError(bad)
    if adler(1, 0, body) != (a, b):
        raise ValueError(bad)
    files = {}
    pos = 0
    for _ in range(count):
        if pos >= length:
            raise ValueError(bad)
        n = body[pos]
        end = pos + 1 + n + ENTRY_SIZE
        if end > length:
            raise ValueError(bad)
        name = str(body[pos + 1:pos + 1 + n], "ascii")
        files[name] = struct.unpack(ENTRY, body[pos + 1 + n:end])
        pos = end
    if pos != length:
        raise ValueError(bad)
    return files


def file_checksum(path, size):
    """(length, adler_a, adler_b) of a file, from its mapped bytes (a ROMFS file) or read
    CHUNK bytes at a time into one small buffer."""
    a, b = 1, 0
    with open(path, "rb") as f:
        try:
            mapped = memoryview(f)  # ROMFS: the file's bytes in flash, no copy
        except TypeError:
            mapped = None
        if mapped is not None:
            for start in range(0, len(mapped), CHUNK):
                a, b = adler(a, b, mapped[start:start + CHUNK])
            return len(mapped), a, b
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        total = 0
        while total <= size:  # one chunk past the packed size is enough to tell it is longer
            n = f.readinto(buf)
            if not n:
                break
            a, b = adler(a, b, view if n == CHUNK else view[:n])
            total += n
        return total, a, b


def check_file(name, path, entry):
    size, a, b = entry
    if path is None or not _exists(path):
        raise ValueError("%s is missing: deploy the whole dist folder" % name)
    got, got_a, got_b = file_checksum(path, size)
    if got != size:
        raise ValueError("%s is truncated or wrong: %d bytes, packed %d (deploy it again)"
                         % (name, got, size))
    if (got_a, got_b) != (a, b):
        raise ValueError("%s is damaged: checksum differs from the packed file" % name)


def verify(top_level):
    """Check the manifest, then every file in it; `top_level` names the files load() needs
    beside the package (bundle, weights, native module): each must be listed. Returns
    {name: path} of the top-level files, as import will find them."""
    folder = package_folder()
    manifest = _join(folder, MANIFEST)
    files = read_manifest(manifest)
    for name in top_level:
        if name not in files:
            raise ValueError("%s does not list %s: packed for another model? (pack and deploy "
                             "again)" % (manifest, name))
    for required in ("microtrain/__init__.py", "microtrain/integrity.py",
                     "microtrain/model.mpy", "microtrain/state.mpy"):
        if required not in files:
            raise ValueError("%s does not list %s (pack and deploy again)" % (manifest, required))
    root = folder[:folder.rfind("/")] if "/" in folder else ""
    paths = {}
    for name, entry in files.items():
        if name.startswith("microtrain/"):
            path = _join(folder, name[len("microtrain/"):])
        elif name.endswith(".mpy"):
            path = find_module(name)
        else:
            path = _join(root, name)
        check_file(name, path, entry)
        paths[name] = path
    global verified
    verified += 1
    return paths


WHOLE = True  # the last line: a cut file that still compiles lacks it (__init__.py checks)
