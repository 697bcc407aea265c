# SPDX-License-Identifier: MIT
"""Host simulation: the C kernels run through the host library, the numpy trainer and learning curves."""
