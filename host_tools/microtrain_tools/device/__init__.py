# SPDX-License-Identifier: MIT
"""Talking to a board (or the unix port): deploy, learn over a link, sessions."""
