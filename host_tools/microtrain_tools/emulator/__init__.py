# SPDX-License-Identifier: MIT
"""The op table and the program executor on an emulated core (unicorn: Cortex-M0, M3, M4, M7,
RV32), bare metal, no firmware: the tests' per-arch checks and `microtrain profile`.

unicorn is an optional extra of the package (`pip install "microtrain-tools[profile]"`, pinned
in requirements.txt); a missing unicorn or cross compiler is a MissingTool naming what to install.
"""
