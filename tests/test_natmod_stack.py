# SPDX-License-Identifier: MIT
"""No natmod function keeps a variable-sized stack frame, and none takes more than
FRAME_LIMIT bytes: the module runs on the interpreter's C stack, a few KB on small ports.
gcc's -fstack-usage reports each function's own frame (callers add theirs; the kernels call
no deeper than op adapter -> kernel -> helper)."""

import pytest
from conftest import skip_or_fail
from microtrain_tools.mpy.arches import get_arch
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.mpy.natmod_build import compile_source, find_compiler, natmod_sources
from microtrain_tools.paths import NATMOD_DIR

# The largest frames are the depthwise q8 grad_in's M4 tap table (about 1 KB), the 1x1 forward's
# widened pixel pair (1 KB, c_in <= 256) and the 1x1 q8 grad_in's stack block (8 bytes per
# output channel, up to 128 channels).
FRAME_LIMIT = 1280


def frames(arch_name, out_dir):
    """{(source, function): bytes} of every natmod function, and the non-static ones."""
    arch = get_arch(arch_name)
    try:
        find_compiler(arch)
    except MicrotrainError as err:
        skip_or_fail(str(err))
    sizes, dynamic = {}, []
    for source in natmod_sources():
        rel = source.relative_to(NATMOD_DIR)
        obj = out_dir / rel.with_suffix(".o")
        obj.parent.mkdir(parents=True, exist_ok=True)
        compile_source(arch, source, obj, ["-fstack-usage"])
        for line in obj.with_suffix(".su").read_text().splitlines():
            where, size, kind = line.split("\t")
            function = where.rsplit(":", 1)[-1]
            sizes[(str(rel), function)] = int(size)
            if kind != "static":
                dynamic.append((str(rel), function, kind))
    return sizes, dynamic


@pytest.mark.parametrize("arch", ["armv6m", "armv7emsp", "rv32imc"])
def test_stack_frames_are_static_and_small(arch, tmp_path):
    sizes, dynamic = frames(arch, tmp_path)
    assert len(sizes) > 50
    assert not dynamic, dynamic
    big = {k: v for k, v in sizes.items() if v > FRAME_LIMIT}
    assert not big, big
    print(arch, "largest frames:", sorted(sizes.items(), key=lambda kv: -kv[1])[:5])
