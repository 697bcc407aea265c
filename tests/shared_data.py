# SPDX-License-Identifier: MIT
"""Where ../shared/data is; tests that need it skip outside CI and fail inside CI without it."""

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(sub: str) -> Path:
    path = SHARED_DATA / sub
    if not path.is_dir():
        message = f"needs the folder {path} (../shared/data beside the repository)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
