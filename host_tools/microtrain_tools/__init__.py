# SPDX-License-Identifier: MIT
"""Host side of microtrain: importers, quantizer, references, compiler, linker, packer."""

__version__ = "0.1.0"
