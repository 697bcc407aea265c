# SPDX-License-Identifier: MIT
"""Our own natmod linker and .mpy v6.3 reader (facts: ../shared/NATMOD_FACTS.md 1, 4-6)."""
