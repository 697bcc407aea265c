# SPDX-License-Identifier: MIT
"""The one error type of the host tools; the CLI turns it into a clean exit."""

from contextlib import contextmanager


class MicrotrainError(Exception):
    """A problem the user can fix: the message names it and says what to do."""


@contextmanager
def reading(path, what: str):
    """Reading a file the user gave: any failure comes out as one MicrotrainError line that
    names the file. A damaged file can break a parser in ways no list of exception types
    foresees (zipfile's NotImplementedError, a tokenizer's TokenError, an OverflowError deep in
    a library), and each of them means the same to the user: this file is not a readable `what`.
    """
    try:
        yield
    except MicrotrainError as err:
        text = " ".join(str(err).split("\n"))
        if str(path) not in text:
            text = f"{path}: {text}"
        err.args = (text,)  # same type and attributes (PolicyError.field), the file named
        raise err from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as err:  # noqa: BLE001 - see the docstring
        detail = " ".join(str(err).split()) or "no detail"
        raise MicrotrainError(f"{path} is not a {what}: damaged or unreadable "
                              f"({type(err).__name__}: {detail[:200]})") from None
