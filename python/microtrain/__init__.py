# SPDX-License-Identifier: MIT
# microtrain on the device: m = microtrain.load("model"); m.predict(x); m.learn(x, y); m.save()
from .model import Model, load

__version__ = "0.1.0"
