# SPDX-License-Identifier: MIT
"""Where ../shared/data is; tests that need it skip outside CI and fail inside CI without it."""

from pathlib import Path

from conftest import skip_or_fail

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(sub: str) -> Path:
    path = SHARED_DATA / sub
    if not path.is_dir():
        skip_or_fail(f"needs the folder {path} (../shared/data beside the repository)")
    return path
