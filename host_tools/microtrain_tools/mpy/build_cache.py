# SPDX-License-Identifier: MIT
"""The user cache of built files (native modules, the host kernel library), keyed by a hash of
everything that shapes them, so a second `pack` reuses the module instead of compiling again.

The cache is platformdirs' user cache folder for "microtrain" (~/.cache/microtrain on Linux,
$XDG_CACHE_HOME/microtrain when set), or $MICROTRAIN_CACHE. It is never the checkout nor the
installed package: both may be read-only or shared. Deleting it at any time is safe.
"""

import hashlib
import os
import tempfile
from pathlib import Path

CACHE_ENV = "MICROTRAIN_CACHE"


def cache_root() -> Path:
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    from platformdirs import user_cache_path

    return user_cache_path("microtrain", appauthor=False)


def digest(parts, files=(), base: Path | None = None) -> str:
    """A short hex hash of the strings `parts` and of each file's name and bytes (names relative
    to `base` when given, so the same sources hash alike in a checkout and in a wheel)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(str(part).encode() + b"\0")
    for path in sorted(Path(f) for f in files):
        name = path.relative_to(base) if base is not None else path
        h.update(name.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def cached_file(kind: str, key: str, name: str, build) -> tuple[Path, bool]:
    """The cached file <cache>/<kind>/<key>/<name>; build(path) makes it when it is missing.

    Returns (path, was_cached). build writes a private temporary name that is renamed into
    place only when complete, so a concurrent reader never sees a half-written file; a build
    that raises leaves nothing behind.
    """
    target = cache_root() / kind / key / name
    if target.is_file():
        return target, True
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        build(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        _remove_if_empty(target.parent)
        raise
    return target, False


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty: another process's build is in it
