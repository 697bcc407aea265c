# SPDX-License-Identifier: MIT
"""File formats: float model, int8 graph, program, data files, and the fixed-point parameter math they store."""
