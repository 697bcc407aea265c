_SELF = None  # the first line: `microtrain pack` writes (size, Adler-32 halves) of the rest
# SPDX-License-Identifier: MIT
# microtrain on the device: m = microtrain.load("model"); m.predict(x); m.learn(x, y); m.save()


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

__version__ = "0.1.0"


def _load(name, state_path=None):
    """Check every packed file against the manifest, then import the bundle `name`, open its
    weights (in place from ROMFS, else read into RAM) and set up its model."""
    from . import integrity

    if getattr(integrity, "WHOLE", None) is not True:  # a cut that still compiles
        raise ValueError("microtrain/integrity.py is cut short: deploy it again")
    weights_name = name + ".weights"
    paths = integrity.verify(("_microtrain.mpy", name + ".mpy", weights_name))
    import _microtrain  # now known to be whole

    # A module built for another float ABI (e.g. soft-float on a hard-float board) loads but
    # passes floats wrongly; one float round trip tells.
    if _microtrain.f32_bits(1.5) != 0x3FC00000:
        raise ValueError("_microtrain.mpy was built for another float ABI than this firmware; "
                         "pack for the right board (" + "%s)" % (_microtrain.info()[2],))
    from .model import load as load_model

    return load_model(name, paths[weights_name], state_path)


# Shipped as source (integrity.py: chain of trust), so damage may still compile. It checks that
# the call went through a whole verify() and gave a model: damage that skips part of `_load` (a
# splice that still compiles) is then refused instead of returning None or an unchecked model.
def _checked_load(name, state_path=None):
    from . import integrity

    before = integrity.verified
    model = _load(name, state_path)
    if integrity.verified != before + 1 or not hasattr(model, "learn"):
        raise ValueError("microtrain/__init__.py is damaged (load skipped its checks): "
                         "deploy it again")
    return model


# `load` is bound by the last line only: a cut file has none (AttributeError naming the module).
load = _checked_load
