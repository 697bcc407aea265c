# SPDX-License-Identifier: MIT
# microtrain on the device: m = microtrain.load("model"); m.predict(x); m.learn(x, y); m.save()

__version__ = "0.1.0"


def load(name, state_path=None):
    """Check the packed files, then import the bundle `name` and set up its model."""
    from . import integrity

    integrity.verify(("_microtrain.mpy", name + ".mpy"))
    from .model import load as load_model  # imports the native module, now known to be whole

    return load_model(name, state_path)
