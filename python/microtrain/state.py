# SPDX-License-Identifier: MIT
# Saved learned state, in two slot files path + ".a" and path + ".b", each:
#   b"MTST" | u8 version | u8 0 | u16 adler_a | u16 adler_b | u16 0 | u32 model_id | u32 length
#   | u32 sequence | the trainable bytes
# The checksum covers model_id, length, sequence and the bytes. save() overwrites the slot that
# does not hold the newest whole state, then calls os.sync(): no remove, no rename (MicroPython's
# FAT driver renames over a file by removing it first), so a power cut at any point leaves the
# newest whole state where it was. load_into() takes the whole slot with the highest sequence.
# A version-1 file at path itself (one file, no sequence: the layout before the slots) loads as
# sequence 0.
import os
import struct

MAGIC = b"MTST"
VERSION = 2
HEADER = "<4sBBHHHIII"
HEADER_SIZE = 24
CHECKED_FROM = 12  # model_id, length, sequence: in the checksum with the bytes
V1_HEADER = "<4sBBHHHII"
V1_HEADER_SIZE = 20
ADLER_MOD = 65521
ENOENT = 2
CHUNK = 64  # bytes read at a time while checking a slot: no copy of the whole state


def checksum(data, a=1, b=0):
    # Adler-32 kept as two 16-bit halves so every intermediate stays a small int on 32-bit ports.
    for byte in data:
        a = (a + byte) % ADLER_MOD
        b = (b + a) % ADLER_MOD
    return a, b


def slots(path):
    return path + ".a", path + ".b"


def _check(name, model_id, size):
    """(sequence, header size) of the whole state in `name`, for this model and size; else raise."""
    with open(name, "rb") as f:
        head = f.read(HEADER_SIZE)
        version = head[4] if len(head) > 4 else None
        header, header_size = (V1_HEADER, V1_HEADER_SIZE) if version == 1 else (HEADER, HEADER_SIZE)
        if len(head) < header_size:
            raise ValueError("state file %s is truncated (%d bytes)" % (name, len(head)))
        if head[:4] != MAGIC:
            raise ValueError("%s is not a microtrain state file" % name)
        if version == 1:
            _, _, _, a, b, _, file_model_id, length = struct.unpack(header, head[:header_size])
            sequence, sums = 0, (1, 0)
            f.seek(header_size)
        elif version == VERSION:
            _, _, _, a, b, _, file_model_id, length, sequence = struct.unpack(header, head)
            sums = checksum(head[CHECKED_FROM:])
        else:
            raise ValueError("state file %s has version %d, expected %d" % (name, version, VERSION))
        if file_model_id != model_id:
            raise ValueError("state file %s belongs to another model" % name)
        chunk = bytearray(CHUNK)
        view = memoryview(chunk)
        total = 0
        while True:
            n = f.readinto(chunk)
            if not n:
                break
            total += n
            sums = checksum(view[:n], *sums)
    if length != size or total != length:
        raise ValueError("state file %s is truncated or has the wrong size" % name)
    if sums != (a, b):
        raise ValueError("state file %s is damaged (checksum mismatch)" % name)
    return sequence, header_size


def _survey(path, model_id, size):
    """(sequence, name, header size) of the newest whole state (None if none), errors seen."""
    best, errors = None, []
    for name in slots(path) + (path,):
        try:
            sequence, header_size = _check(name, model_id, size)
        except OSError as err:
            if err.errno != ENOENT:
                errors.append("state file %s cannot be read (%s)" % (name, err))
            continue
        except ValueError as err:
            errors.append(str(err))
            continue
        if best is None or sequence > best[0]:
            best = (sequence, name, header_size)
    return best, errors


def save(path, model_id, params):
    """Write params into the slot not holding the newest whole state; return that slot's name."""
    best, _ = _survey(path, model_id, len(params))
    a_name, b_name = slots(path)
    name = b_name if best is not None and best[1] == a_name else a_name
    sequence = 1 if best is None else best[0] + 1
    head = struct.pack(HEADER, MAGIC, VERSION, 0, 0, 0, 0, model_id, len(params), sequence)
    a, b = checksum(params, *checksum(head[CHECKED_FROM:]))
    head = struct.pack(HEADER, MAGIC, VERSION, 0, a, b, 0, model_id, len(params), sequence)
    with open(name, "wb") as f:
        f.write(head)
        f.write(params)
    # Until the data is on flash a cut may still lose this slot; the other one holds the
    # previous state. Ports without os.sync (unix) write through at close.
    sync = getattr(os, "sync", None)
    if sync is not None:
        sync()
    return name


def load_into(path, model_id, params):
    """Copy the newest whole state saved at path into params and return its file's name.

    Nothing whole (missing, damaged, truncated, another model's): raise and leave params alone.
    """
    best, errors = _survey(path, model_id, len(params))
    if best is None:
        if errors:
            raise ValueError("; ".join(errors))
        raise OSError(ENOENT, "no state saved at %s (%s.a, %s.b)" % (path, path, path))
    _, name, header_size = best
    with open(name, "rb") as f:
        f.seek(header_size)
        f.readinto(params)
    return name
