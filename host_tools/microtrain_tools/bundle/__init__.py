# SPDX-License-Identifier: MIT
"""Packing: bundle files, board files and the ROMFS image a board loads."""
