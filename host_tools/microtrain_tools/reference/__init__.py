# SPDX-License-Identifier: MIT
"""numpy reference of every C kernel, one module per kernel, bit for bit.

Each module exports `OPS`, a dict from kernel name to a function `op(args, bufs)` with the same
meaning as the C op adapter (natmod/ops/mt_op_<op>.c): the same flat int32 args and the same
buffers, written in place. `REFERENCE_OPS` collects them from every module of this package, so
a new kernel is one new module and no list to edit:

    REFERENCE_OPS["mt_conv2d_s8_fwd"](args, bufs)   # as hostlib.run_op("mt_conv2d_s8_fwd", ...)
"""

import importlib
import pkgutil


def _collect() -> dict:
    ops = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for name, fn in getattr(module, "OPS", {}).items():
            if name in ops:
                raise RuntimeError(f"reference op {name} defined twice ({module_info.name})")
            ops[name] = fn
    return ops


REFERENCE_OPS = _collect()
