# SPDX-License-Identifier: MIT
# microtrain on the device: m = microtrain.load("model"); m.predict(x); m.learn(x, y); m.save()

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


# Shipped as source (integrity.py: chain of trust), so a cut file may still compile: `load` is
# bound by the last line only, and a cut one has none (AttributeError naming the module).
load = _load
