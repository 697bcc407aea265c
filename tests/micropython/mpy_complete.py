# SPDX-License-Identifier: MIT
# Is a native-module .mpy file complete? MicroPython's loader spins forever on a file cut short
# after its header (its vuint reader sees 0xFF at end of file and keeps reading), so code that
# imports a module which may be damaged (a partial upload, a torn flash write) checks it first:
#     mpy_complete.check("/lib/_microtrain.mpy")   # raises ValueError naming the problem
# Walks the layout of an .mpy v6.3 natmod (docs/sdk.md, NATMOD_FACTS section 1) reading a few
# bytes at a time, so it needs almost no RAM. Runs on MicroPython and CPython.
import os

_ARCH_FLAGS = 0x40
_SCOPE_RELOC, _SCOPE_RODATA, _SCOPE_BSS = 0x10, 0x20, 0x40
_OP_END = 0xFF
_COUNTED_KINDS = (1, 3, 5)  # reloc kinds followed by a word count


class _Reader:
    def __init__(self, f, size, path):
        self.f, self.size, self.path, self.pos = f, size, path, 0

    def fail(self, what):
        raise ValueError("%s: truncated or damaged .mpy (%s at byte %d of %d)"
                         % (self.path, what, self.pos, self.size))

    def byte(self, what):
        if self.pos >= self.size:
            self.fail(what)
        self.pos += 1
        return self.f.read(1)[0]

    def skip(self, n, what):
        if self.pos + n > self.size:
            self.fail(what)
        self.pos += n
        self.f.seek(self.pos)

    def uint(self, what):
        value = 0
        while True:
            b = self.byte(what)
            value = (value << 7) | (b & 0x7F)
            if not b & 0x80:
                return value


def _skip_object(r):
    kind = r.byte("object type")
    if kind in (5, 6):  # str, bytes: length, data, a NUL
        r.skip(r.uint("object length") + 1, "object data")
    elif kind in (7, 8, 9):  # int, float, complex as text
        r.skip(r.uint("object length"), "object data")
    elif kind == 10:  # tuple
        for _ in range(r.uint("tuple length")):
            _skip_object(r)
    elif kind > 4:
        r.fail("unknown object type %d" % kind)


def check(path):
    size = os.stat(path)[6]
    with open(path, "rb") as f:
        r = _Reader(f, size, path)
        if r.byte("magic") != ord("M") or r.byte("version") != 6:
            r.fail("not an .mpy v6 file")
        flags = r.byte("arch")
        r.byte("small int bits")
        if flags & _ARCH_FLAGS:
            r.uint("arch flags")
        n_qstr = r.uint("qstr count")
        n_obj = r.uint("object count")
        for _ in range(n_qstr):
            length = r.uint("qstr")
            if not length & 1:  # a string follows (odd: a static qstr number)
                r.skip((length >> 1) + 1, "qstr text")
        for _ in range(n_obj):
            _skip_object(r)
        kind_len = r.uint("code header")
        if kind_len & 4:
            r.fail("code with children is not a native module")
        r.skip(kind_len >> 3, "code")
        scope = r.uint("scope flags")
        rodata = r.uint("rodata size") if scope & _SCOPE_RODATA else 0
        if scope & _SCOPE_BSS:
            r.uint("bss size")
        r.skip(rodata, "rodata")
        if scope & _SCOPE_RELOC:
            while True:
                op = r.byte("relocation")
                if op == _OP_END:
                    break
                if op & 1:
                    r.uint("relocation address")
                if (op >> 1) in _COUNTED_KINDS:
                    r.uint("relocation count")
    return size
