# SPDX-License-Identifier: MIT
# The state store before issue 8 (write name.tmp, rename over name, no sync), kept so
# test_state_store.py can show its power-cut enumeration catches a store that loses state.
import os
import struct

MAGIC = b"MTST"
VERSION = 1
HEADER = "<4sBBHHHII"
HEADER_SIZE = 20
ADLER_MOD = 65521


def checksum(data):
    # Adler-32 kept as two 16-bit halves so every intermediate stays a small int on 32-bit ports.
    a, b = 1, 0
    for byte in data:
        a = (a + byte) % ADLER_MOD
        b = (b + a) % ADLER_MOD
    return a, b


def save(path, model_id, params):
    a, b = checksum(params)
    header = struct.pack(HEADER, MAGIC, VERSION, 0, a, b, 0, model_id, len(params))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header)
        f.write(params)
        f.flush()
    os.rename(tmp, path)


def load_into(path, model_id, params):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < HEADER_SIZE:
        raise ValueError("state file %s is truncated (%d bytes)" % (path, len(data)))
    magic, version, _, a, b, _, file_model_id, length = struct.unpack(HEADER, data[:HEADER_SIZE])
    if magic != MAGIC:
        raise ValueError("%s is not a microtrain state file" % path)
    if version != VERSION:
        raise ValueError("state file %s has version %d, expected %d" % (path, version, VERSION))
    if file_model_id != model_id:
        raise ValueError("state file %s belongs to another model" % path)
    body = data[HEADER_SIZE:]
    if length != len(params) or len(body) != length:
        raise ValueError("state file %s is truncated or has the wrong size" % path)
    if checksum(body) != (a, b):
        raise ValueError("state file %s is damaged (checksum mismatch)" % path)
    params[:] = body
