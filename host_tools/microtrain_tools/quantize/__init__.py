# SPDX-License-Identifier: MIT
"""Post-training quantization: float model -> int8 graph, with a float vs int8 report."""
