# SPDX-License-Identifier: MIT
"""The sparse-update policy: its file, the budgeted search and the QAS experiment."""
