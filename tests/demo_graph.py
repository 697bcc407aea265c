# SPDX-License-Identifier: MIT
"""The digits demo's model compiled as `make demo` compiles it (examples/demo/demo_model.py)."""

import sys
from functools import lru_cache

from conftest import ROOT


@lru_cache(maxsize=None)
def digits_demo_compiled():
    sys.path.insert(0, str(ROOT / "examples" / "demo"))
    import demo_model

    return demo_model.compiled()
