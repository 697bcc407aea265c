# SPDX-License-Identifier: MIT
"""Errors of the linker and of the .mpy reader."""

from ..errors import MicrotrainError


class LinkError(MicrotrainError):
    """The objects cannot be turned into a working .mpy; the message says what to change."""


class MpyFormatError(MicrotrainError):
    """A .mpy file is damaged or not one we can read."""
