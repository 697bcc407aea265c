# SPDX-License-Identifier: MIT
"""The one error type of the host tools; the CLI turns it into a clean exit."""


class MicrotrainError(Exception):
    """A problem the user can fix: the message names it and says what to do."""
