# SPDX-License-Identifier: MIT
# Check the packed files before importing them. MicroPython's .mpy loader does not survive a
# truncated or damaged native module (it can crash the interpreter), so `microtrain pack` records
# each file's size and checksum in microtrain/manifest.py and load() compares them first.
import os
import sys

from .state import checksum


def find(filename):
    for folder in sys.path:
        path = (folder + "/" + filename) if folder else filename
        try:
            os.stat(path)
            return path
        except OSError:
            pass
    return None


def verify(filenames):
    try:
        from .manifest import FILES
    except ImportError:
        return  # not packed by `microtrain pack` (e.g. frozen into firmware): nothing to check
    for filename in filenames:
        if filename not in FILES:
            continue
        path = find(filename)
        if path is None:
            raise ValueError("%s is missing: deploy the whole dist folder" % filename)
        size, a, b = FILES[filename]
        with open(path, "rb") as f:
            data = f.read()
        if len(data) != size:
            raise ValueError("%s is truncated or wrong: %d bytes, packed %d (deploy it again)"
                             % (filename, len(data), size))
        if checksum(data) != (a, b):
            raise ValueError("%s is damaged: checksum differs from the packed file" % filename)
